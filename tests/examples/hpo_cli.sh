#!/bin/bash
# nabla-hpo end to end: a study in a SQLite file, two workers at once running a command per trial,
# status, best, export and enqueue, a failing command, pruning, and usage errors.
# Usage: hpo_cli.sh NABLA_HPO WORK_DIR
set -euo pipefail
hpo=$1 work=$2
rm -rf "$work" && mkdir -p "$work" && cd "$work"

cat > space.json <<'JSON'
{"x": {"type": "float", "low": -3, "high": 3},
 "n": {"type": "int", "low": 1, "high": 4},
 "kind": {"type": "categorical", "choices": ["a", "b"]},
 "bonus": {"type": "float", "low": 0, "high": 1, "if": {"kind": "b"}}}
JSON
# The per-trial command: x^2 + n (+ 1 for kind b), reported at steps 0..2, then as the value, in
# full precision (so that only the enqueued optimum scores exactly 1).
cat > objective.sh <<'SH'
#!/bin/bash
x=$1 n=$2 kind=$3
[ "$kind" = a ] || [ -n "$(echo "$NABLA_HPO_PARAMS" | grep bonus)" ] || { echo "no bonus"; exit 1; }
v=$(awk -v x="$x" -v n="$n" -v k="$kind" 'BEGIN { printf "%.17g", x * x + n + (k == "b") }')
for step in 0 1 2; do echo "nabla-hpo report $step $v"; done
echo "trial $NABLA_HPO_TRIAL of $NABLA_HPO_STUDY is done"
echo "nabla-hpo value $v"
SH
chmod +x objective.sh
db="sqlite:///$work/study.db"
args=(--storage "$db" --study demo)

"$hpo" create "${args[@]}" --space space.json --sampler tpe --seed 3 -- ./objective.sh {x} {n} {kind}
"$hpo" worker "${args[@]}" --n-trials 15 > worker1.txt &
"$hpo" worker "${args[@]}" --n-trials 15 --n-jobs 2 > worker2.txt &
wait
"$hpo" status "${args[@]}" | tee status.txt
grep -q "30 trials, 30 complete" status.txt
"$hpo" export "${args[@]}" --format csv --out trials.csv
[ "$(wc -l < trials.csv)" -eq 31 ] || { echo "trials.csv has $(wc -l < trials.csv) lines"; exit 1; }
[ "$(tail -n +2 trials.csv | cut -d, -f1 | sort -n | uniq | wc -l)" -eq 30 ] || { echo "numbers repeat"; exit 1; }
"$hpo" export "${args[@]}" --format json --out trials.json
grep -q '"study": "demo"' trials.json

# An enqueued configuration runs next and, being the optimum, becomes the best.
"$hpo" enqueue "${args[@]}" --params '{"x": 0.0, "n": 1, "kind": "a"}'
"$hpo" worker "${args[@]}" --n-trials 1
"$hpo" best "${args[@]}" | tee best.txt
grep -q "^trial 30: 1$" best.txt

# A command that fails fails its trial, with the reason, and the worker goes on.
"$hpo" worker "${args[@]}" --n-trials 2 -- sh -c 'echo "out of memory"; exit 3' | tee failed.txt
grep -q "failed: the command exited with status 3; its last line: out of memory" failed.txt
"$hpo" status "${args[@]}" | grep -q "33 trials, 31 complete, 2 failed"

# With the median pruner, trials whose reports are worse than the median stop early.
"$hpo" create --storage "$db" --study pruned --space space.json --sampler random --seed 1 \
    --pruner median --pruner-opt n_startup_trials=3 -- ./objective.sh {x} {n} {kind}
"$hpo" worker --storage "$db" --study pruned --n-trials 20
"$hpo" status --storage "$db" --study pruned | tee pruned.txt
grep -Eq "20 trials, [0-9]+ complete, [1-9][0-9]* pruned" pruned.txt

expect_usage_error() {  # expect_usage_error PATTERN ARGS...: exit code 2 and PATTERN on stderr
  local pattern=$1 code=0
  shift
  "$hpo" "$@" 2> error.txt || code=$?
  cat error.txt
  [ "$code" -eq 2 ] || { echo "exit code $code, expected 2, for: $*"; exit 1; }
  grep -q -- "$pattern" error.txt
}
expect_usage_error "unknown sampler 'annealing'" create "${args[@]}x" --sampler annealing
expect_usage_error "no study named 'missing'" status --storage "$db" --study missing
expect_usage_error "a study named 'demo' exists already" create "${args[@]}"
expect_usage_error "not JSON" create "${args[@]}2" --space objective.sh
expect_usage_error "--n-trials" worker "${args[@]}" --n-trials many
echo "nabla-hpo: all checks passed"
