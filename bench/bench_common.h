// Shared by the bench_* programs: registration, rate counters, result checks, and a main that
// runs nabla and its reference interleaved and prints their ratio from the medians.
#pragma once

#include <benchmark/benchmark.h>
#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "nabla.h"

namespace nabla::bench {

// Real time, not CPU time: nabla and OpenBLAS both work on several threads.
template <class Fn>
benchmark::internal::Benchmark* add(const std::string& name, Fn fn) {
  return benchmark::RegisterBenchmark(name.c_str(), [fn](benchmark::State& state) { fn(state); })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

// Work per iteration; Google Benchmark shows it as a rate (GFLOP=123/s), and the summary reads it
// back as work = rate * time.
inline void set_gflop(benchmark::State& state, double flop) {
  state.counters["GFLOP"] =
      benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
inline void set_gbyte(benchmark::State& state, double bytes) {
  state.counters["GB"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Exits unless nabla's result matches the reference's within rel_tol of the largest reference
// magnitude: a ratio means nothing if the two sides compute different things.
inline void require_close(const std::string& what, const Tensor& got, const Tensor& want,
                          double rel_tol) {
  std::vector<float> g = got.to_vector<float>(), w = want.to_vector<float>();
  double worst = g.size() == w.size() ? 0 : INFINITY, scale = 1e-30;
  for (size_t i = 0; i < w.size() && i < g.size(); ++i) {
    worst = std::max(worst, std::abs(double(g[i]) - double(w[i])));
    scale = std::max(scale, std::abs(double(w[i])));
  }
  if (worst <= rel_tol * scale) return;
  std::fprintf(stderr, "%s: nabla's result differs from the reference's by %g (scale %g)\n",
               what.c_str(), worst, scale);
  std::exit(1);
}

// One summary line: nabla's benchmark(s) against the reference's. Several names on one side
// mean their times add up, e.g. the three passes of a convolution step.
struct Comparison {
  std::string label;
  std::vector<std::string> nabla;
  std::vector<std::string> reference;
};

// Passes everything to the console and keeps each benchmark's median time and work.
class MedianReporter : public benchmark::ConsoleReporter {
 public:
  struct Median {
    double seconds = 0;
    double work = 0;  // in the unit of its counter
    std::string unit;
  };

  // Colour only on a terminal, so that a saved log stays readable.
  MedianReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_Color : OO_None) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      // A single repetition has no aggregates; with several, the median replaces them.
      bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Aggregate && !median) continue;
      Median m;
      m.seconds = run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
      for (const auto& [unit, counter] : run.counters) {
        m.unit = unit;
        m.work = counter.value * m.seconds;
      }
      medians_[run.run_name.function_name] = m;
    }
  }

  // The summed median of the named benchmarks; false when one of them did not run.
  bool total(const std::vector<std::string>& names, Median& sum) const {
    sum = {};
    for (const std::string& name : names) {
      auto it = medians_.find(name);
      if (it == medians_.end()) return false;
      sum.seconds += it->second.seconds;
      sum.work += it->second.work;
      sum.unit = it->second.unit;
    }
    return !names.empty();
  }

 private:
  std::map<std::string, Median> medians_;
};

inline void print_environment(const char* program) {
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("%s: OPENBLAS_CORETYPE=%s (OpenBLAS kernels: %s, %d threads), nabla threads: %d\n",
              program, coretype ? coretype : "unset", openblas_get_corename(),
              openblas_get_num_threads(), nabla::get_num_threads());
}

// Other work on the machine steals cores from multi-threaded kernels; the load says how much.
inline void print_load(const char* when) {
  double load[1];
  if (getloadavg(load, 1) == 1) std::printf("load average %s: %.2f\n", when, load[0]);
}

inline void print_summary(const MedianReporter& reporter,
                          const std::vector<Comparison>& comparisons) {
  std::printf("\nSummary: medians; ratio = nabla speed / reference speed (1.00 = parity)\n");
  std::printf("%-32s %28s %28s %7s\n", "benchmark", "nabla", "reference", "ratio");
  auto cell = [](const MedianReporter::Median& m) {
    char text[64];
    std::snprintf(text, sizeof text, "%7.1f %s/s %9.3f ms", m.work / m.seconds, m.unit.c_str(),
                  m.seconds * 1e3);
    return std::string(text);
  };
  for (const Comparison& c : comparisons) {
    MedianReporter::Median ours, ref;
    if (!reporter.total(c.nabla, ours) || !reporter.total(c.reference, ref)) continue;
    // Both sides do the same work, so the ratio of speeds is the inverse ratio of times.
    std::printf("%-32s %28s %28s %7.2f\n", c.label.c_str(), cell(ours).c_str(), cell(ref).c_str(),
                ref.seconds / ours.seconds);
  }
}

// main() for a bench program. By default every benchmark repeats `repetitions` times (odd, so
// the median is one measurement) with the repetitions of all benchmarks shuffled together, so
// that a change in machine load hits nabla and the reference alike; flags on the command line
// override these defaults.
inline int run_main(int argc, char** argv, const char* program, int repetitions,
                    const std::vector<Comparison>& comparisons) {
  std::vector<std::string> defaults = {"--benchmark_enable_random_interleaving=true",
                                       "--benchmark_repetitions=" + std::to_string(repetitions),
                                       "--benchmark_report_aggregates_only=true"};
  std::vector<char*> args{argv[0]};
  for (std::string& flag : defaults) args.push_back(flag.data());
  args.insert(args.end(), argv + 1, argv + argc);
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  print_environment(program);
  print_load("before");
  MedianReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_load("after");
  print_summary(reporter, comparisons);
  benchmark::Shutdown();
  return 0;
}

}  // namespace nabla::bench
