// McNemar's tests, the quantile and the paired bootstrap against hand-computed cases.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "hpo/rng.h"
#include "hpo/significance.h"

using namespace nabla;
using namespace nabla::hpo;

namespace {

// `right` correct answers among `n`: the first ones.
std::vector<bool> first_right(int64_t n, int64_t right) {
  std::vector<bool> out(size_t(n), false);
  for (int64_t i = 0; i < right; ++i) out[size_t(i)] = true;
  return out;
}

}  // namespace

TEST_CASE("paired counts fill the 2x2 table") {
  const std::vector<bool> a = {true, true, false, false, true};
  const std::vector<bool> b = {true, false, true, false, false};
  const PairedCounts counts = paired_counts(a, b);
  CHECK(counts.both_right == 1);
  CHECK(counts.a_only == 2);
  CHECK(counts.b_only == 1);
  CHECK(counts.both_wrong == 1);
  CHECK(counts.total() == 5);
  CHECK_THROWS_AS(paired_counts({true}, {true, false}), ValueError);
  CHECK_THROWS_AS(paired_counts({}, {}), ValueError);
}

TEST_CASE("McNemar: b = 10, c = 2") {
  // Exact: 2 (C(12,0) + C(12,1) + C(12,2)) / 2^12 = 2 * 79 / 4096.
  // Chi-square: (|10 - 2| - 1)^2 / 12 = 49 / 12, p = erfc(sqrt(49 / 24)) = 0.0433081428...
  const McNemar test = mcnemar(10, 2);
  CHECK(test.exact_p == doctest::Approx(2.0 * 79 / 4096).epsilon(1e-12));
  CHECK(test.chi_square == doctest::Approx(49.0 / 12).epsilon(1e-12));
  CHECK(test.chi_square_p == doctest::Approx(0.04330814281079197).epsilon(1e-12));
  // The test is symmetric in A and B.
  CHECK(mcnemar(2, 10).exact_p == test.exact_p);
  CHECK(mcnemar(2, 10).chi_square == test.chi_square);
}

TEST_CASE("McNemar: b = 60, c = 40") {
  // 2 sum_{k <= 40} C(100, k) / 2^100 in exact integers; (20 - 1)^2 / 100 = 3.61.
  const McNemar test = mcnemar(60, 40);
  CHECK(test.exact_p == doctest::Approx(0.05688793364098079).epsilon(1e-10));
  CHECK(test.chi_square == doctest::Approx(3.61).epsilon(1e-12));
  CHECK(test.chi_square_p == doctest::Approx(0.05743311963200360).epsilon(1e-12));
}

TEST_CASE("McNemar: equal counts and no discordant pair give p = 1") {
  for (int64_t b : {1, 2, 7, 500, 1000000}) {
    const McNemar test = mcnemar(b, b);
    CHECK(test.exact_p == 1.0);
    CHECK(test.chi_square == 0.0);
    CHECK(test.chi_square_p == 1.0);
  }
  // |b - c| = 1: the correction leaves no excess either.
  CHECK(mcnemar(3, 4).chi_square == 0.0);
  CHECK(mcnemar(3, 4).exact_p ==
        doctest::Approx(1.0));  // 2 P[X <= 3] for Bin(7, 1/2) = 2 * 64 / 128
  const McNemar none = mcnemar(0, 0);
  CHECK(none.exact_p == 1.0);
  CHECK(none.chi_square == 0.0);
  CHECK(none.chi_square_p == 1.0);
  CHECK_THROWS_AS(mcnemar(-1, 3), ValueError);
}

TEST_CASE("McNemar: a million discordant pairs, and tails of 2^-999 and below") {
  // b = 501,000, c = 499,000: 2 P[X <= 499,000] for Bin(10^6, 1/2) = 0.0456082998653820864...
  // (summed at 40 digits); the continuity-corrected chi-square, 1999^2 / 10^6, is within 1e-6
  // of it at this size.
  const McNemar large = mcnemar(501000, 499000);
  CHECK(large.exact_p == doctest::Approx(0.04560829986538209).epsilon(1e-7));
  CHECK(large.chi_square == doctest::Approx(1999.0 * 1999.0 / 1e6).epsilon(1e-12));
  CHECK(large.chi_square_p == doctest::Approx(large.exact_p).epsilon(1e-5));
  // b = 1000, c = 0: 2 / 2^1000, where 2^-1000 itself would underflow only past 2^-1074.
  const McNemar one_sided = mcnemar(1000, 0);
  CHECK(one_sided.exact_p == doctest::Approx(std::ldexp(1.0, -999)).epsilon(1e-10));
  // b = 3000, c = 0: the true p, 2^-2999, is below the smallest double.
  CHECK(mcnemar(3000, 0).exact_p == 0.0);
}

TEST_CASE("quantile: linear interpolation between order statistics") {
  const std::vector<double> values = {1, 2, 3, 4};
  CHECK(quantile_sorted(values, 0) == 1);
  CHECK(quantile_sorted(values, 1) == 4);
  CHECK(quantile_sorted(values, 0.5) == doctest::Approx(2.5));    // h = 1.5
  CHECK(quantile_sorted(values, 0.25) == doctest::Approx(1.75));  // h = 0.75
  CHECK(quantile_sorted({7}, 0.3) == 7);
  CHECK_THROWS_AS(quantile_sorted({}, 0.5), ValueError);
  CHECK_THROWS_AS(quantile_sorted(values, 1.5), ValueError);
}

TEST_CASE("paired bootstrap: identical predictions differ by exactly 0 in every resample") {
  const std::vector<bool> a = first_right(100, 60);
  const PairedBootstrap result = paired_bootstrap(a, a, {.resamples = 2000, .seed = 3});
  CHECK(result.difference.value == 0.0);
  CHECK(result.difference.interval.low == 0.0);
  CHECK(result.difference.interval.high == 0.0);
  CHECK(result.b_better_fraction == 0.0);
  // Each accuracy on its own still varies.
  CHECK(result.a.value == 0.6);
  CHECK(result.a.interval.low < 0.55);
  CHECK(result.a.interval.high > 0.65);
  CHECK(result.b.interval.low == result.a.interval.low);
  CHECK(result.b.interval.high == result.a.interval.high);
}

TEST_CASE("paired bootstrap: intervals of a known distribution") {
  // 13 of 26 right: a resample's count is Bin(26, 1/2), whose 2.5% quantile is 8 (P[X <= 7] =
  // 0.0145, P[X <= 8] = 0.0378) and 97.5% quantile 18. Of 10,000 resamples about 145 fall at or
  // below 7 and 378 at or below 8, so order statistics 249 and 250 are both 8, far from chance.
  const int64_t n = 26;
  const std::vector<bool> half = first_right(n, 13), all = first_right(n, n);
  const PairedBootstrap against_perfect = paired_bootstrap(half, all, {.seed = 11});
  CHECK(against_perfect.a.value == 0.5);
  CHECK(against_perfect.a.interval.low == 8.0 / n);
  CHECK(against_perfect.a.interval.high == 18.0 / n);
  CHECK(against_perfect.b.interval.low == 1.0);
  CHECK(against_perfect.b.interval.high == 1.0);
  // B - A = 1 - A's accuracy in each resample.
  CHECK(against_perfect.difference.value == 0.5);
  CHECK(against_perfect.difference.interval.low == double(n - 18) / n);
  CHECK(against_perfect.difference.interval.high == double(n - 8) / n);
  CHECK(against_perfect.b_better_fraction == 1.0);  // all but with probability 2^-26

  // B right exactly where A is wrong: B - A = 1 - 2 A's accuracy, in [-10/26, 10/26]; B is
  // ahead when A's count is below 13, P[X <= 12] = 0.4225.
  std::vector<bool> complement(half.size());
  for (size_t i = 0; i < half.size(); ++i) complement[i] = !half[i];
  const PairedBootstrap opposite = paired_bootstrap(half, complement, {.seed = 11});
  CHECK(opposite.difference.value == 0.0);
  CHECK(opposite.difference.interval.low == -10.0 / n);
  CHECK(opposite.difference.interval.high == 10.0 / n);
  CHECK(opposite.b_better_fraction == doctest::Approx(0.4225).epsilon(0.05));
}

TEST_CASE("paired bootstrap: the intervals hold the estimates and have the normal width") {
  // 2,000 examples, A right with probability 0.7, B with 0.75, their errors independent.
  Rng rng(5);
  std::vector<bool> a, b;
  for (int i = 0; i < 2000; ++i) {
    a.push_back(rng.uniform() < 0.7);
    b.push_back(rng.uniform() < 0.75);
  }
  const PairedBootstrap result = paired_bootstrap(a, b, {.resamples = 4000, .seed = 1});
  for (const Estimate& e : {result.a, result.b, result.difference}) {
    CHECK(e.interval.low <= e.value);
    CHECK(e.value <= e.interval.high);
  }
  // Half-width about 1.96 standard errors: sqrt(p (1 - p) / n) for an accuracy, and for the
  // difference sqrt((p_b + p_c - (p_c - p_b)^2) / n) with the discordant fractions p_b, p_c.
  const double n = 2000, pa = result.a.value;
  const PairedCounts counts = paired_counts(a, b);
  const double pb = double(counts.a_only) / n, pc = double(counts.b_only) / n;
  const double a_half = (result.a.interval.high - result.a.interval.low) / 2;
  const double d_half = (result.difference.interval.high - result.difference.interval.low) / 2;
  CHECK(a_half == doctest::Approx(1.96 * std::sqrt(pa * (1 - pa) / n)).epsilon(0.1));
  CHECK(d_half ==
        doctest::Approx(1.96 * std::sqrt((pb + pc - (pc - pb) * (pc - pb)) / n)).epsilon(0.1));
  // A wider confidence, a wider interval.
  const PairedBootstrap wide =
      paired_bootstrap(a, b, {.resamples = 4000, .confidence = 0.99, .seed = 1});
  CHECK(wide.difference.interval.low < result.difference.interval.low);
  CHECK(wide.difference.interval.high > result.difference.interval.high);
}

TEST_CASE("paired bootstrap: the same seed gives the same intervals") {
  Rng rng(9);
  std::vector<bool> a, b;
  for (int i = 0; i < 500; ++i) {
    a.push_back(rng.uniform() < 0.8);
    b.push_back(rng.uniform() < 0.8);
  }
  const PairedBootstrap first = paired_bootstrap(a, b, {.resamples = 1000, .seed = 42});
  const PairedBootstrap again = paired_bootstrap(a, b, {.resamples = 1000, .seed = 42});
  const PairedBootstrap other = paired_bootstrap(a, b, {.resamples = 1000, .seed = 43});
  CHECK(first.difference.interval.low == again.difference.interval.low);
  CHECK(first.difference.interval.high == again.difference.interval.high);
  CHECK(first.a.interval.low == again.a.interval.low);
  CHECK(first.b_better_fraction == again.b_better_fraction);
  CHECK(first.b_better_fraction != other.b_better_fraction);
}

TEST_CASE("paired bootstrap: errors name the bad argument") {
  const std::vector<bool> a = first_right(10, 5);
  CHECK_THROWS_WITH_AS(paired_bootstrap(a, first_right(9, 5)),
                       doctest::Contains("A has 10 results but B has 9"), ValueError);
  CHECK_THROWS_AS(paired_bootstrap({}, {}), ValueError);
  CHECK_THROWS_WITH_AS(paired_bootstrap(a, a, {.resamples = 0}),
                       doctest::Contains("resamples must be at least 1"), ValueError);
  for (double confidence : {0.0, 1.0, 1.5, -0.2, std::numeric_limits<double>::quiet_NaN()})
    CHECK_THROWS_WITH_AS(paired_bootstrap(a, a, {.confidence = confidence}),
                         doctest::Contains("confidence must be in (0, 1)"), ValueError);
}
