#!/bin/bash
# nabla-hpo plot draws a one-objective study (history, parallel coordinates, importance) and a
# two-objective one (its Pareto front too); tools/plot_study.py refuses a file that is not a study.
# Usage: plot_study.sh PYTHON PLOT_STUDY_PY NABLA_HPO WORK_DIR
set -euo pipefail
python=$1 plot=$2 hpo=$3 work=$4
rm -rf "$work" && mkdir -p "$work" && cd "$work"
cat > space.json <<'JSON'
{"lr": {"type": "float", "low": 1e-4, "high": 1, "log": true},
 "width": {"type": "int", "low": 1, "high": 8},
 "kind": {"type": "categorical", "choices": ["a", "b", "c"]}}
JSON
db="sqlite:///$work/plots.db"
"$hpo" create --storage "$db" --study one --space space.json --sampler random --seed 1 -- \
    sh -c 'echo "nabla-hpo value $(awk "BEGIN { print log($1) * log($1) + $2 }")"' _ {lr} {width}
"$hpo" worker --storage "$db" --study one --n-trials 12 > /dev/null
"$hpo" plot --storage "$db" --study one --out one --python "$python"
for name in history parallel importance; do
  [ "$(head -c 4 "one/$name.png" | tail -c 3)" = PNG ] || { echo "no one/$name.png"; exit 1; }
done
[ ! -e one/pareto.png ] || { echo "a one-objective study has no Pareto front to draw"; exit 1; }

"$hpo" create --storage "$db" --study two --space space.json --direction minimize \
    --direction maximize --sampler nsga2 --seed 2 -- \
    sh -c 'echo "nabla-hpo value $1 $2"' _ {lr} {width}
"$hpo" worker --storage "$db" --study two --n-trials 12 > /dev/null
"$hpo" plot --storage "$db" --study two --out two --python "$python"
[ "$(head -c 4 two/pareto.png | tail -c 3)" = PNG ] || { echo "no two/pareto.png"; exit 1; }

echo '{"trials": 3}' > not-a-study.json
if "$python" "$plot" not-a-study.json --out bad 2> error.txt; then echo "accepted a non-study"; exit 1; fi
grep -q "not a study export" error.txt
echo "plot_study: all checks passed"
