#!/bin/bash
# nabla-compare on two short training runs: it reports the accuracies nabla-train --eval-only
# gives for each checkpoint, a checkpoint compared with itself differs by exactly 0 with p = 1, and
# its errors are one line on stderr with exit code 2.
# Usage: compare_checkpoints.sh NABLA_TRAIN NABLA_COMPARE WORK_DIR
set -euo pipefail
train=$1 compare=$2 work=$3
not_a_run=$(cd "$(dirname "$0")/../fuzz/corpus/checkpoint" && pwd)/valid_checkpoint.safetensors
rm -rf "$work" && mkdir -p "$work" && cd "$work"
run=(--dataset fashion-mnist --model mlp --train-images 2000 --epochs 1 --threads 2)
flags=("${run[@]}" --test-images 1000)

"$train" "${flags[@]}" --checkpoint a.safetensors > a.out
"$train" "${flags[@]}" --opt momentum=0.9 --warmup 0 --checkpoint b.safetensors > b.out
"$compare" a.safetensors b.safetensors --threads 2 --json figures.json | tee compare.out

# Each model's accuracy is the one nabla-train evaluates its checkpoint to.
evaluated() {
  "$train" "${flags[@]}" --eval-only --resume "$1" | sed -n 's/^test accuracy: \([0-9.]*%\)$/\1/p'
}
reported() { sed -n "s/^$1 accuracy: \([0-9.]*%\) .*/\1/p" compare.out; }
for model in a b; do
  name=$(echo $model | tr ab AB)
  echo "$name: nabla-compare $(reported $name), nabla-train --eval-only $(evaluated $model.safetensors)"
  [ -n "$(reported $name)" ] && [ "$(reported $name)" = "$(evaluated $model.safetensors)" ]
done
grep -q '^B - A: [+-][0-9.]* points  (95% CI [+-][0-9.]* to [+-][0-9.]*;' compare.out
grep -q '^McNemar exact p = [0-9.e+-]* (' compare.out
grep -q '^McNemar chi-square = [0-9.]* (continuity-corrected), p = [0-9.e+-]*$' compare.out
# Momentum from the first step is 12 points ahead after one epoch (50.5% and 62.8%; p ~ 1e-15).
grep -q '^B beats A: +[0-9.]* points (95% CI +[0-9.]* to +[0-9.]*), McNemar exact p = .* < 0.05$' \
  compare.out
grep -q '"exact_p"' figures.json

# A model against itself: no discordant example, an interval of exactly 0, p = 1.
"$compare" a.safetensors a.safetensors --threads 2 --resamples 500 > self.out
grep -q '^B - A: +0.00 points  (95% CI +0.00 to +0.00;' self.out
grep -q '^McNemar exact p = 1 (0 discordant examples' self.out
grep -q '^no significant difference at alpha 0.05 (McNemar exact p = 1)$' self.out

# Errors: one line on stderr naming the problem, exit code 2.
fails() {
  local match=$1 code=0
  shift
  "$compare" "$@" > /dev/null 2> error.txt || code=$?
  echo "exit code $code: $(cat error.txt)"
  [ $code -eq 2 ] && [ "$(wc -l < error.txt)" -eq 1 ] && grep -q "$match" error.txt
}
fails "nabla-compare: .*'missing.safetensors': cannot open" missing.safetensors a.safetensors
fails "valid_checkpoint.safetensors' is not a nabla-train checkpoint" a.safetensors "$not_a_run"
fails "confidence: 1.5 is not valid" a.safetensors b.safetensors --confidence 1.5
# A run tested on 500 images is not compared with one tested on 1,000, except on the same 500.
"$train" "${run[@]}" --test-images 500 --seed 1 --checkpoint c.safetensors > c.out
fails "the test sets differ: A's has 1000 images, B's 500" a.safetensors c.safetensors
"$compare" a.safetensors c.safetensors --test-images 500 --threads 2 --resamples 500 \
  | grep '^test set: 500 images'
