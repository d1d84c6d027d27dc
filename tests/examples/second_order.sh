#!/bin/bash
# The second-order comparison end to end in its quick mode: it finishes, and summary.md has a row
# for every run, a log beside each run that was made, and no failed run.
# Usage: second_order.sh SECOND_ORDER WORK_DIR [flags...]
set -euo pipefail
program=$1 work=$2
shift 2
rm -rf "$work"
"$program" --out "$work" "$@" | tee "$work.out"

runs=$(sed -n 's/^\([0-9]*\) runs in .*/\1/p' "$work.out")
rows=$(grep '^| [a-z_]* | ' "$work/summary.md" | grep -vc '^| optimizer |')
made=$(grep -c '^| [a-z_]* | [0-9]' "$work/summary.md" || true)
logs=$(find "$work/logs" -name '*.jsonl' | wc -l)
echo "runs: $runs, table rows: $rows, runs made: $made, logs: $logs"
[ "$runs" -gt 0 ] && [ "$rows" -eq "$runs" ] && [ "$made" -gt 0 ] && [ "$logs" -eq "$made" ]
! grep -q '| failed' "$work/summary.md"
