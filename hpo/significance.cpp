// McNemar's exact and chi-square tests, and the paired percentile bootstrap.
#include "hpo/significance.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "hpo/rng.h"

namespace nabla::hpo {

namespace {

// log P[X <= m] for X ~ Bin(n, 1/2) and 0 <= m <= n / 2. The terms t_k = C(n, k) / 2^n grow
// with k up to n / 2, so t_m is the largest: it comes from lgamma in log space (2^-n underflows
// for n > 1074), and the others as ratios to it, t_{k-1} = t_k k / (n - k + 1), summed until they
// no longer change the sum. About sqrt(n) terms matter, whatever n.
double log_binomial_half_cdf(int64_t m, int64_t n) {
  const double log_top = std::lgamma(double(n) + 1) - std::lgamma(double(m) + 1) -
                         std::lgamma(double(n - m) + 1) - double(n) * std::log(2.0);
  double sum = 0, term = 1;
  for (int64_t k = m; k >= 0 && term > sum * 1e-18; --k) {
    sum += term;
    term *= double(k) / double(n - k + 1);
  }
  return log_top + std::log(sum);
}

}  // namespace

PairedCounts paired_counts(const std::vector<bool>& a_correct, const std::vector<bool>& b_correct) {
  NABLA_CHECK(a_correct.size() == b_correct.size(), ValueError, "paired_counts: A has ",
              a_correct.size(), " results but B has ", b_correct.size(),
              "; both models must be scored on the same examples");
  NABLA_CHECK(!a_correct.empty(), ValueError, "paired_counts: no examples to compare on");
  PairedCounts counts;
  for (size_t i = 0; i < a_correct.size(); ++i) {
    if (a_correct[i] && b_correct[i]) ++counts.both_right;
    if (a_correct[i] && !b_correct[i]) ++counts.a_only;
    if (!a_correct[i] && b_correct[i]) ++counts.b_only;
    if (!a_correct[i] && !b_correct[i]) ++counts.both_wrong;
  }
  return counts;
}

McNemar mcnemar(int64_t a_only, int64_t b_only) {
  NABLA_CHECK(a_only >= 0 && b_only >= 0, ValueError, "mcnemar: counts must be non-negative, got ",
              a_only, " and ", b_only);
  const int64_t n = a_only + b_only;
  if (n == 0) return {};
  McNemar result;
  result.exact_p = std::min(1.0, 2 * std::exp(log_binomial_half_cdf(std::min(a_only, b_only), n)));
  // The correction never carries the difference past zero: b = c gives 0, not 1 / (b + c).
  const double excess = std::max(double(std::abs(a_only - b_only)) - 1, 0.0);
  result.chi_square = excess * excess / double(n);
  result.chi_square_p = std::erfc(std::sqrt(result.chi_square / 2));
  return result;
}

double quantile_sorted(const std::vector<double>& sorted, double q) {
  NABLA_CHECK(!sorted.empty(), ValueError, "quantile_sorted: no values");
  NABLA_CHECK(q >= 0 && q <= 1, ValueError, "quantile_sorted: q must be in [0, 1], got ", q);
  const double h = double(sorted.size() - 1) * q;
  const size_t below = size_t(std::floor(h));
  if (below + 1 >= sorted.size()) return sorted.back();
  return sorted[below] + (h - double(below)) * (sorted[below + 1] - sorted[below]);
}

PairedBootstrap paired_bootstrap(const std::vector<bool>& a_correct,
                                 const std::vector<bool>& b_correct,
                                 const BootstrapOptions& options) {
  const PairedCounts counts = paired_counts(a_correct, b_correct);
  NABLA_CHECK(options.resamples >= 1, ValueError,
              "paired_bootstrap: resamples must be at least 1, got ", options.resamples);
  NABLA_CHECK(options.confidence > 0 && options.confidence < 1, ValueError,
              "paired_bootstrap: confidence must be in (0, 1), got ", options.confidence);
  const int64_t n = counts.total(), resamples = options.resamples;
  // Each example's cell of the table: bit 0 A right, bit 1 B right.
  std::vector<uint8_t> cell(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    cell[size_t(i)] = uint8_t(a_correct[size_t(i)] | (b_correct[size_t(i)] << 1));

  const size_t count = static_cast<size_t>(resamples);
  std::vector<double> accuracy_a(count), accuracy_b(count), difference(count);
  // Resample r draws from its own stream (Note [sampler streams]), so that threads share out the
  // resamples without changing a single draw.
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < resamples; ++r) {
    Rng rng = Rng::keyed(options.seed, r, "paired bootstrap");
    int64_t right_a = 0, right_b = 0;
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t c = cell[size_t(rng.integer(n))];
      right_a += c & 1;
      right_b += c >> 1;
    }
    accuracy_a[size_t(r)] = double(right_a) / double(n);
    accuracy_b[size_t(r)] = double(right_b) / double(n);
    difference[size_t(r)] = double(right_b - right_a) / double(n);
  }

  PairedBootstrap result;
  result.b_better_fraction =
      double(std::count_if(difference.begin(), difference.end(), [](double d) { return d > 0; })) /
      double(resamples);
  const double tail = (1 - options.confidence) / 2;
  auto estimate = [&](std::vector<double>& replicates, double value) {
    std::sort(replicates.begin(), replicates.end());
    return Estimate{value,
                    {quantile_sorted(replicates, tail), quantile_sorted(replicates, 1 - tail)}};
  };
  const double whole_a = double(counts.both_right + counts.a_only) / double(n);
  const double whole_b = double(counts.both_right + counts.b_only) / double(n);
  result.a = estimate(accuracy_a, whole_a);
  result.b = estimate(accuracy_b, whole_b);
  result.difference = estimate(difference, double(counts.b_only - counts.a_only) / double(n));
  return result;
}

}  // namespace nabla::hpo
