#!/bin/bash
# tools/plot.py draws every curve of a nabla-train log, per epoch and per step, and names the file
# and the line of a log it cannot read.
# Usage: plot_logs.sh PYTHON PLOT_PY NABLA_TRAIN WORK_DIR
set -euo pipefail
python=$1 plot=$2 train=$3 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"

"$train" --dataset fashion-mnist --model mlp --train-images 500 --validation 0.2 --epochs 2 \
    --threads 2 --log run.jsonl > /dev/null
"$python" "$plot" run.jsonl --label "an MLP" --out plots --prefix mlp
for name in accuracy-epoch loss-epoch accuracy-time loss-time lr-step; do
  [ "$(head -c 4 "plots/mlp-$name.png" | tail -c 3)" = PNG ] || { echo "no plots/mlp-$name.png"; exit 1; }
done
"$python" "$plot" run.jsonl --per-step --log-loss --out plots --prefix steps
for name in accuracy-step accuracy-step-time loss-step loss-step-time; do
  [ "$(head -c 4 "plots/steps-$name.png" | tail -c 3)" = PNG ] || { echo "no plots/steps-$name.png"; exit 1; }
done

expect_error() {  # expect_error PATTERN LOG...: exit code 2 and PATTERN on stderr
  local pattern=$1
  shift
  if "$python" "$plot" "$@" --out bad 2> error.txt; then echo "plot.py accepted $*"; exit 1; fi
  cat error.txt
  grep -q "$pattern" error.txt
}
expect_error "missing.jsonl: No such file" missing.jsonl
{ head -2 run.jsonl; echo '{"type": "step", "loss":'; } > cut.jsonl
expect_error "cut.jsonl, line 3: not JSON" run.jsonl cut.jsonl
tail -n +2 run.jsonl > headless.jsonl
expect_error "headless.jsonl: the first record is not the run's config" headless.jsonl
