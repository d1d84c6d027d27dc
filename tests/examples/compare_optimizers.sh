#!/bin/bash
# The optimizer study end to end on a few images: every run ends, summary.md has a row and the
# folder a log for each run, and the command of each run is listed.
# Usage: compare_optimizers.sh COMPARE_OPTIMIZERS WORK_DIR [study flags...]
set -euo pipefail
study=$1 work=$2
shift 2
rm -rf "$work"
"$study" --out "$work" "$@" | tee "$work.out"

runs=$(sed -n 's/^\([0-9]*\) runs in .*/\1/p' "$work.out")
rows=$(grep -c '^| [a-z]*-lr[0-9.e-]*-b[0-9]*-[a-z]* |' "$work/summary.md")
logs=$(find "$work" -maxdepth 1 -name '*.jsonl' | wc -l)
commands=$(grep -c '^- .*: `nabla-train --dataset' "$work/summary.md")
echo "runs: $runs, table rows: $rows, logs: $logs, commands: $commands"
[ "$runs" -gt 0 ] && [ "$rows" -eq "$runs" ] && [ "$logs" -eq "$runs" ] && [ "$commands" -eq "$runs" ]
! grep -q '| failed' "$work/summary.md"
