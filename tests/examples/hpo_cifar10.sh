#!/bin/bash
# hpo_cifar10 end to end on the real CIFAR-10 subset, seconds per trial: a Hyperband study that
# prunes and completes in a SQLite file, the file read back by nabla-hpo and resumed, a trial
# rerun from its record, the best retrained, ASHA, the multi-objective front, and usage errors.
# Usage: hpo_cifar10.sh HPO_CIFAR10 NABLA_HPO WORK_DIR DATA_DIR
set -euo pipefail
tune=$1 hpo=$2 work=$3 data=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"

# 600 images: 450 to train on, 150 to validate on; runs of 1 and 3 epochs.
task=(--dataset cifar10 --data "$data" --train-images 600 --validation 0.25 --eta 3 --threads 2)
fail() { echo "hpo_cifar10 test: $*"; exit 1; }

# Hyperband with R = 3, eta = 3: brackets of 3 runs of 1 epoch (the best goes on to 3 epochs) and
# of 2 runs of 3 epochs, 12 epochs a pass.
"$tune" "${task[@]}" --epochs 3 --method hyperband --budget 12 --out hb | tee hb.txt
grep -q "subset" hb.txt || fail "the data summary does not say it found only the subset"
grep -q "5 trials (3 complete, 2 pruned, 0 failed), 12.00 training epochs" hb.txt ||
  fail "Hyperband did not run its 5 trials with 2 pruned"
db="sqlite:///$work/hb/study.db"
"$hpo" status --storage "$db" --study hyperband-seed-0 | tee status.txt
grep -q "5 trials, 3 complete, 2 pruned" status.txt || fail "nabla-hpo does not read the study file"
if command -v sqlite3 > /dev/null; then
  [ "$(sqlite3 hb/study.db 'PRAGMA integrity_check')" = ok ] || fail "study.db fails SQLite's check"
fi
[ "$(wc -l < hb/evaluations.jsonl)" -eq 6 ] || fail "expected 6 training runs in evaluations.jsonl"
grep -q '"trials"' hb/trials.json || fail "trials.json is not a study export"

# The same study resumed: another pass adds 5 trials to the 5 it had.
"$tune" "${task[@]}" --epochs 3 --method hyperband --budget 12 --storage "$db" > resumed.txt
grep -q "^10 trials" resumed.txt || fail "the resumed study does not hold 10 trials"

# Every trial records what reproduces it; a rerun gives the same weights, bit for bit.
grep -q "code_version" hb/trials.json || fail "the trials do not record the code version"
"$tune" "${task[@]}" --storage "$db" --study hyperband-seed-0 --rerun 3 | tee rerun.txt
grep -q "reproduced" rerun.txt || fail "trial 3 did not reproduce"

# The finished study's best configuration and the default one, retrained on all 600 images and
# tested once each, with no further tuning.
"$tune" "${task[@]}" --epochs 1 --storage "$db" --study hyperband-seed-0 --budget 0 --retrain \
  --retrain-images 600 | tee retrain.txt
grep -q "tuned - default: [+-][0-9]" retrain.txt || fail "--budget 0 --retrain did not compare"

# ASHA: successive halving's pruner inside optimize, until 9 epochs are spent.
"$tune" "${task[@]}" --epochs 3 --method asha --budget 9 --seed 1 > asha.txt
grep -q "training epochs" asha.txt || fail "the ASHA study did not finish"

# Accuracy against latency and parameters, NSGA-II: a Pareto front table.
"$tune" "${task[@]}" --epochs 1 --method nsga2 --budget 4 --objectives accuracy,latency,parameters \
  > front.txt
grep -q "Pareto front" front.txt || fail "no Pareto front"

# Usage errors: one line, exit code 2.
set +e
"$tune" "${task[@]}" --method foo 2> err.txt; code=$?
set -e
[ $code -eq 2 ] && grep -q "unknown method 'foo'" err.txt || fail "--method foo: exit $code"
set +e
"$tune" "${task[@]}" --rerun 0 2> err.txt; code=$?
set -e
[ $code -eq 2 ] && grep -q "needs the --storage" err.txt || fail "--rerun without storage: exit $code"
echo "hpo_cifar10: all checks passed"
