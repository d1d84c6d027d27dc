#!/usr/bin/env bash
# Times a training step of each model in nabla (bench_train_step) and in tuned PyTorch
# (bench/torch_train_step.py), interleaved, and prints the median step times and their ratio.
#
#   bench/compare_torch.sh [build folder, default build]
#   ROUNDS=5 MODELS=cnn,fastnet,resnet20,mlp THREADS=2 BATCH=128 bench/compare_torch.sh build
#
# Each round runs, model by model, one nabla process and one PyTorch process (which goes first
# alternates from round to round). A process per measurement samples what varies between
# processes (PyTorch is bimodal between processes when untuned, thread placement, memory
# layout), and the two sides of one comparison run seconds apart, so a change in the machine's
# load hits both. The table reports each side's median over rounds of its per-process medians.
set -euo pipefail

build=${1:-build}
rounds=${ROUNDS:-5}
models=${MODELS:-cnn,fastnet,resnet20,mlp}
threads=${THREADS:-2}
batch=${BATCH:-128}
here=$(cd "$(dirname "$0")" && pwd)
nabla_bin=$build/bench/bench_train_step
python=${PYTHON:-/usr/bin/python3}

if [[ ! -x $nabla_bin ]]; then
  echo "compare_torch: $nabla_bin not found; build it first (cmake --build $build --target bench_train_step)" >&2
  exit 1
fi
# With OpenBLAS's pthread build, its threads and OpenMP's fight over the cores (2x slower on two).
openblas=$(ldd "$nabla_bin" | awk '/libopenblas/ {print $3}')
if [[ $openblas != *openmp* ]]; then
  echo "compare_torch: $nabla_bin loads $openblas, not OpenBLAS's OpenMP build" \
       "(install libopenblas-openmp-dev and rebuild)" >&2
  exit 1
fi

echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} (it picks OpenBLAS's kernels for nabla;" \
     "PyTorch's convolutions use oneDNN whatever it says)"
echo "nabla loads $openblas; rounds $rounds, threads $threads, batch $batch"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_nabla() {
  "$nabla_bin" --models "$1" --threads "$threads" --batch "$batch" | awk -v side=nabla \
    '$2 == "median" {print side, $1, $3; fflush()}' >>"$log"
}
# Tuned as BENCHMARKING.md says: no mmap'd or trimmed heap, one OpenBLAS thread beside PyTorch's pool.
run_torch() {
  MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184 OPENBLAS_NUM_THREADS=1 \
    "$python" "$here/torch_train_step.py" --models "$1" --threads "$threads" --batch "$batch" |
    awk -v side=torch '$2 == "median" {print side, $1, $3; fflush()}' >>"$log"
}

for ((round = 1; round <= rounds; ++round)); do
  for model in ${models//,/ }; do
    if ((round % 2)); then
      run_nabla "$model"
      run_torch "$model"
    else
      run_torch "$model"
      run_nabla "$model"
    fi
  done
  echo "round $round/$rounds done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# Goal: nabla's step at most 0.8x PyTorch's for the CNNs, 0.7x for the MLP.
awk -v models="$models" -v batch="$batch" '
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; ++i) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; --j) {
      t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
    }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { times[$1 " " $2] = times[$1 " " $2] " " $3 }
  END {
    printf "%-10s | %10s | %10s | %16s | %12s | %5s\n", "model", "nabla ms", "torch ms",
           "ratio nabla/torch", "nabla img/s", "goal"
    n = split(models, names, ",")
    for (i = 1; i <= n; ++i) {
      m = names[i]
      ours = median(times["nabla " m]); ref = median(times["torch " m])
      goal = m == "mlp" ? 0.7 : 0.8
      printf "%-10s | %10.2f | %10.2f | %16.2f | %12.0f | %s %.1f\n", m, ours, ref, ours / ref,
             batch * 1000 / ours, ours / ref <= goal ? "met" : "not", goal
    }
  }' "$log"
