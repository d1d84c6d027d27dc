#!/usr/bin/env bash
# Warm starting, measured: TPE studies of hpo_cifar10's quick task seeded with the trials of a
# finished study of a related, smaller task (the first 1,000 CIFAR-10 training images instead of
# 2,000), against cold TPE studies at the same seeds. tools/plot_hpo_compare.py then reports the
# training epochs each study took to reach the cold studies' median best, and draws both.
#
#   bench/hpo_warm_start.sh [build folder, default build] [output folder, default hpo-warm-start]
#   SEEDS=0,1,2 bench/hpo_warm_start.sh build runs
# The cold studies are the same runs as bench/hpo_cifar10_compare.sh's tpe-seed-N: point both
# scripts at one output folder to run them once.
set -euo pipefail

build=${1:-build}
out=${2:-hpo-warm-start}
seeds=${SEEDS:-0,1,2}
here=$(cd "$(dirname "$0")" && pwd)
program=$build/examples/hpo_cifar10

if [[ ! -x $program ]]; then
  echo "hpo_warm_start: $program not found; build it first (cmake --build $build --target hpo_cifar10)" >&2
  exit 1
fi
mkdir -p "$out"
# The source study: another seed than the targets', so that no target repeats its draws.
if [[ ! -f $out/source/summary.md ]]; then
  rm -rf "$out/source"
  echo "== source: TPE on the first 1,000 training images"
  "$program" --quick --train-images 1000 --method tpe --seed 100 --study source --out "$out/source" |
    tail -n 4
fi
for seed in ${seeds//,/ }; do
  for kind in cold warm; do
    if [[ $kind == cold ]]; then
      run=$out/tpe-seed-$seed warm=()
    else
      run=$out/tpe+warm-seed-$seed
      warm=(--warm-start-from source --warm-start-storage "sqlite:///$out/source/study.db")
    fi
    if [[ -f $run/summary.md ]]; then continue; fi
    rm -rf "$run"
    echo "== $kind, seed $seed"
    "$program" --quick --method tpe --seed "$seed" "${warm[@]}" --out "$run" | tail -n 4
  done
done
# Only the target studies: the source is another task.
mkdir -p "$out/compared"
for run in "$out"/tpe-seed-* "$out"/tpe+warm-seed-*; do ln -sfn "$(cd "$run" && pwd)" "$out/compared/"; done
"${PYTHON:-/usr/bin/python3}" "$here/../tools/plot_hpo_compare.py" "$out/compared" --out "$out" --threshold tpe
