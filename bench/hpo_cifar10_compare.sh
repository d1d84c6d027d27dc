#!/usr/bin/env bash
# Tuning methods compared at an equal compute budget on hpo_cifar10's quick task: each method and
# seed is one study of 81 training epochs; tools/plot_hpo_compare.py then draws the best
# validation accuracy against the epochs spent (median over seeds) and writes the table.
#
#   bench/hpo_cifar10_compare.sh [build folder, default build] [output folder, default hpo-compare]
#   METHODS=random,tpe,gp,hyperband,bohb SEEDS=0,1,2 bench/hpo_cifar10_compare.sh build runs
set -euo pipefail

build=${1:-build}
out=${2:-hpo-compare}
methods=${METHODS:-random,tpe,gp,hyperband,bohb}
seeds=${SEEDS:-0,1,2}
here=$(cd "$(dirname "$0")" && pwd)
program=$build/examples/hpo_cifar10

if [[ ! -x $program ]]; then
  echo "hpo_cifar10_compare: $program not found; build it first (cmake --build $build --target hpo_cifar10)" >&2
  exit 1
fi
mkdir -p "$out"
# Seeds outermost, so that an interrupted comparison still has every method at the seeds done.
for seed in ${seeds//,/ }; do
  for method in ${methods//,/ }; do
    run=$out/$method-seed-$seed
    if [[ -f $run/summary.md ]]; then continue; fi  # finished by an earlier call
    rm -rf "$run"
    echo "== $method, seed $seed"
    "$program" --quick --method "$method" --seed "$seed" --out "$run" "${@:3}" | tail -n 4
  done
done
"${PYTHON:-/usr/bin/python3}" "$here/../tools/plot_hpo_compare.py" "$out" --out "$out"
