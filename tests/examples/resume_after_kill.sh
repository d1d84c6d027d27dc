#!/bin/bash
# A run killed with SIGKILL in the middle of an epoch and resumed from its last checkpoint ends
# with the same weights, bit for bit, as the same run left alone.
# Usage: resume_after_kill.sh NABLA_TRAIN WORK_DIR KILL_AT_STEP [training flags...]
set -euo pipefail
train=$1 work=$2 kill_at=$3
shift 3
rm -rf "$work" && mkdir -p "$work" && cd "$work"

# The weights digest of a finished run's last log record.
checksum() { grep '"type":"end"' "$1" | sed 's/.*"weights_checksum":"\([0-9a-f]*\)".*/\1/'; }
last_step() { grep -o '"step":[0-9]*' "$1" 2>/dev/null | tail -1 | cut -d: -f2; }

"$train" "$@" --log whole.jsonl --checkpoint whole.safetensors > whole.out

"$train" "$@" --log killed.jsonl --checkpoint killed.safetensors > killed.out &
pid=$!
until [ "$(last_step killed.jsonl || true)" -ge "$kill_at" ] 2>/dev/null; do
  kill -0 $pid 2>/dev/null || { echo "the run ended before step $kill_at"; exit 1; }
  sleep 0.02
done
kill -9 $pid
wait $pid 2>/dev/null || true
if grep -q '"type":"end"' killed.jsonl; then
  echo "the run finished before it could be killed"
  exit 1
fi
echo "killed at step $(last_step killed.jsonl)"

"$train" "$@" --log killed.jsonl --checkpoint killed.safetensors --resume killed.safetensors \
  | tee resumed.out
whole=$(checksum whole.jsonl) resumed=$(checksum killed.jsonl)
echo "uninterrupted: $whole, killed and resumed: $resumed"
[ -n "$whole" ] && [ "$whole" = "$resumed" ]
# The resumed log reads like the uninterrupted one: each step once, the same epoch records.
diff <(grep -c '"type":"step"' whole.jsonl) <(grep -c '"type":"step"' killed.jsonl)
diff <(grep '"type":"epoch"' whole.jsonl | sed 's/"epoch_time".*"test_accuracy"/"test_accuracy"/;s/"time":[0-9.e+-]*,//;s/"images_per_second":[0-9.e+-]*,//') \
     <(grep '"type":"epoch"' killed.jsonl | sed 's/"epoch_time".*"test_accuracy"/"test_accuracy"/;s/"time":[0-9.e+-]*,//;s/"images_per_second":[0-9.e+-]*,//')
