// bench_nas_latency: how well the NAS latency table (hpo/nas/latency_table.h) predicts whole
// networks. Samples architectures from the macro space, predicts each one's forward latency from
// per-layer timings, times the whole network end to end, and prints both and their ratio.
//
//   bench_nas_latency [--architectures 20] [--batch 1] [--threads 2] [--seed 0]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "nabla.h"

using namespace nabla;
using namespace nabla::hpo;
using namespace nabla::hpo::nas;

int main(int argc, char** argv) {
  int64_t architectures = 20, batch = 1, threads = 2;
  uint64_t seed = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const long long value = std::atoll(argv[i + 1]);
    if (flag == "--architectures")
      architectures = value;
    else if (flag == "--batch")
      batch = value;
    else if (flag == "--threads")
      threads = value;
    else if (flag == "--seed")
      seed = static_cast<uint64_t>(value);
    else {
      std::fprintf(stderr, "bench_nas_latency: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  set_num_threads(static_cast<int>(threads));
  LatencyTable table({.batch = batch});
  std::printf("bench_nas_latency: batch %lld, %d threads\n", static_cast<long long>(batch),
              get_num_threads());
  std::printf("%-4s %10s %10s %7s  %s\n", "#", "predicted", "measured", "ratio", "architecture");
  Study study = create_study({.sampler = std::make_shared<RandomSampler>(seed)});
  double log_ratio_sum = 0, worst = 0;
  int64_t within_20 = 0;
  study.optimize(
      [&](Trial& t) {
        const MacroArchitecture a = sample_architecture(t);
        const double predicted = table.predict_ms(a), measured = table.measure_ms(a);
        const double ratio = predicted / measured;
        log_ratio_sum += std::log(ratio);
        worst = std::max(worst, std::abs(ratio - 1));
        within_20 += std::abs(ratio - 1) <= 0.2;
        std::printf("%-4lld %8.3fms %8.3fms %7.3f  %s\n", static_cast<long long>(t.number()),
                    predicted, measured, ratio, a.describe().c_str());
        return measured;
      },
      {.n_trials = architectures});
  std::printf(
      "geometric mean ratio %.3f, worst |ratio - 1| %.3f, %lld of %lld within 20%%, "
      "%lld layers timed\n",
      std::exp(log_ratio_sum / static_cast<double>(architectures)), worst,
      static_cast<long long>(within_20), static_cast<long long>(architectures),
      static_cast<long long>(table.entries()));
}
