#!/bin/bash
# Times one epoch of a nabla-train recipe on generated data the size of the full CIFAR-10
# (50,000 + 10,000 images of random pixels and labels in the official binary layout), for
# machines that cannot download it. Only the time means anything: the accuracy is chance.
#   bench/full_size_epoch.sh [nabla-train flags...]     e.g. --model fastnet --batch-size 512
# NABLA_TRAIN overrides the program; the generated files go to a temporary folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
train=${NABLA_TRAIN:-$here/../build/examples/nabla-train}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/cifar-10-batches-bin"
python3 - "$work/cifar-10-batches-bin" <<'PY'
import os, random, sys
folder, record = sys.argv[1], 3073
names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
rng = random.Random(0)
for name in names:
    records = bytearray(os.urandom(10000 * record))
    records[::record] = bytes(rng.randrange(10) for _ in range(10000))
    open(os.path.join(folder, name), "wb").write(records)
PY
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
"$train" --dataset cifar10 --data "$work" --epochs 1 --test-images 1000 "$@" | grep -v '^epoch 1/1 step'
