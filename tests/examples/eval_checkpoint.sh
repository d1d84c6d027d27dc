#!/bin/bash
# A training checkpoint evaluated with --eval-only gives the accuracy the run reported, and a
# config file gives the same run as the flags it holds.
# Usage: eval_checkpoint.sh NABLA_TRAIN WORK_DIR [training flags...]
set -euo pipefail
train=$1 work=$2
shift 2
rm -rf "$work" && mkdir -p "$work" && cd "$work"
accuracy() { grep -o 'test accuracy: [0-9.]*%' "$1"; }

"$train" "$@" --checkpoint run.safetensors --log run.jsonl > trained.out
"$train" "$@" --eval-only --resume run.safetensors > evaluated.out
echo "trained: $(accuracy trained.out), evaluated: $(accuracy evaluated.out)"
[ "$(accuracy trained.out)" = "$(accuracy evaluated.out)" ]

# The log's config record is a config file that repeats the run.
head -1 run.jsonl | sed 's/^{"config":\({[^}]*}\).*/\1/' > config.json
"$train" --config config.json --log again.jsonl --checkpoint "" > again.out
echo "from the config file: $(accuracy again.out)"
[ "$(accuracy trained.out)" = "$(accuracy again.out)" ]
checksum() { grep '"type":"end"' "$1" | sed 's/.*"weights_checksum":"\([0-9a-f]*\)".*/\1/'; }
[ "$(checksum run.jsonl)" = "$(checksum again.jsonl)" ]
