// Whether one classifier beats another on the same test set: McNemar's test on the examples where
// they disagree, and paired bootstrap confidence intervals for both accuracies and their
// difference.
#pragma once

#include <cstdint>
#include <vector>

namespace nabla::hpo {

// The 2x2 table of two classifiers' correctness on the same examples.
struct PairedCounts {
  int64_t both_right = 0;
  int64_t a_only = 0;  // A right, B wrong
  int64_t b_only = 0;  // A wrong, B right
  int64_t both_wrong = 0;

  int64_t total() const { return both_right + a_only + b_only + both_wrong; }
};

// `a_correct[i]`: whether A classified example i correctly; the same examples, in the same order,
// for B. ValueError for empty or mismatched vectors.
PairedCounts paired_counts(const std::vector<bool>& a_correct, const std::vector<bool>& b_correct);

// McNemar's test of "A and B are equally accurate". Only the discordant examples carry evidence:
// under the null each is equally likely to favour A or B, so b = a_only ~ Bin(b + c, 1/2).
struct McNemar {
  double exact_p = 1;       // two-sided: min(1, 2 P[X <= min(b, c)]), X ~ Bin(b + c, 1/2)
  double chi_square = 0;    // Edwards' continuity correction: max(|b - c| - 1, 0)^2 / (b + c)
  double chi_square_p = 1;  // its survival function with one degree of freedom
};

// With no discordant example (b + c = 0) there is no evidence either way: p = 1, statistic 0.
// ValueError for negative counts.
McNemar mcnemar(int64_t a_only, int64_t b_only);
inline McNemar mcnemar(const PairedCounts& counts) { return mcnemar(counts.a_only, counts.b_only); }

// The q-quantile (0 <= q <= 1) of ascending `sorted` values by linear interpolation between order
// statistics: h = (n - 1) q, x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]) (Hyndman
// and Fan's type 7, numpy's and R's default).
double quantile_sorted(const std::vector<double>& sorted, double q);

struct Interval {
  double low = 0, high = 0;
};

// An accuracy (or a difference of accuracies) as a fraction, on the whole set, with its interval.
struct Estimate {
  double value = 0;
  Interval interval{};
};

struct BootstrapOptions {
  int64_t resamples = 10000;
  double confidence = 0.95;  // in (0, 1)
  uint64_t seed = 0;
};

struct PairedBootstrap {
  Estimate a{}, b{};
  Estimate difference{};         // B - A
  double b_better_fraction = 0;  // of resamples in which B's accuracy exceeds A's
};

// Percentile intervals from resampling the examples with replacement, the same indices for both
// models, so that the difference's interval reflects how their errors go together: two models
// that err on the same examples differ by exactly 0 in every resample. The same seed gives the
// same intervals whatever the thread count. ValueError for empty or mismatched vectors, a
// confidence outside (0, 1) or fewer than one resample.
PairedBootstrap paired_bootstrap(const std::vector<bool>& a_correct,
                                 const std::vector<bool>& b_correct,
                                 const BootstrapOptions& options = {});

}  // namespace nabla::hpo
