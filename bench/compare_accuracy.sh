#!/bin/bash
# Trains the same model with the same recipe in nabla (nabla-train) and in PyTorch
# (torch_cifar_subset.py) over several seeds on the CIFAR-10 files under DATA, interleaved, and
# prints each run's test accuracy, the means and their difference.
#   bench/compare_accuracy.sh [DATA] [MODEL] [EPOCHS] [SEEDS]
# defaults: ../shared/data (the subset), cnn, 15, "0 1 2"; NABLA_TRAIN overrides the program.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${1:-$here/../../shared/data} model=${2:-cnn} epochs=${3:-15} seeds=${4:-"0 1 2"}
train=${NABLA_TRAIN:-$here/../build/examples/nabla-train}
# PyTorch tuned as BENCHMARKING.md says; the same 2 compute threads on both sides.
torch_env=(env MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184 OPENBLAS_NUM_THREADS=1)
accuracy() { grep -o 'test accuracy: [0-9.]*' | grep -o '[0-9.]*$'; }

nabla_runs=() torch_runs=()
for seed in $seeds; do
  a=$("$train" --dataset cifar10 --data "$data" --model "$model" --epochs "$epochs" --augment \
        --opt momentum=0.9 --opt nesterov=true --seed "$seed" --threads 2 | accuracy)
  b=$("${torch_env[@]}" /usr/bin/python3 "$here/torch_cifar_subset.py" --data "$data" \
        --model "$model" --epochs "$epochs" --seed "$seed" --threads 2 | accuracy)
  echo "seed $seed: nabla $a%  PyTorch $b%"
  nabla_runs+=("$a") torch_runs+=("$b")
done
python3 - "${#nabla_runs[@]}" "${nabla_runs[@]}" "${torch_runs[@]}" <<'PY'
import statistics, sys
n = int(sys.argv[1]); a = [float(x) for x in sys.argv[2:2 + n]]; b = [float(x) for x in sys.argv[2 + n:]]
sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0
print(f"nabla   {statistics.mean(a):.2f}% (sd {sd(a):.2f}) over {n} seeds")
print(f"PyTorch {statistics.mean(b):.2f}% (sd {sd(b):.2f}) over {n} seeds")
print(f"nabla - PyTorch: {statistics.mean(a) - statistics.mean(b):+.2f} points")
PY
