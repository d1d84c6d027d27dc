// The Sobol sequence: its polynomials and direction numbers, the net property before and after
// scrambling, the t-values of its 2-D projections, its discrepancy against random points, and the
// quasi-random sampler built on it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "functions.h"
#include "hpo/hpo.h"

using namespace nabla::hpo;
using namespace nabla::hpo::testing;

namespace {

// Whether the first 2^m points of (xs, ys) put exactly 2^t points in every elementary interval
// [a 2^-i, (a + 1) 2^-i) x [b 2^-j, (b + 1) 2^-j) with i + j = m - t.
bool is_net(const std::vector<double>& xs, const std::vector<double>& ys, int m, int t) {
  const size_t points = size_t{1} << m;
  for (int i = 0; i <= m - t; ++i) {
    const int j = m - t - i;
    std::vector<int> count(size_t{1} << (m - t), 0);
    for (size_t p = 0; p < points; ++p) {
      const auto a = static_cast<size_t>(std::ldexp(xs[p], i));
      const auto b = static_cast<size_t>(std::ldexp(ys[p], j));
      ++count[(a << j) | b];
    }
    for (int c : count)
      if (c != 1 << t) return false;
  }
  return true;
}

// The smallest t for which the first 2^m points of a 2-D projection form a (t, m, 2)-net.
int t_value(const std::vector<double>& xs, const std::vector<double>& ys, int m) {
  int t = 0;
  while (!is_net(xs, ys, m, t)) ++t;
  return t;
}

std::vector<double> coordinates(int64_t dim, int n, std::optional<uint64_t> seed) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(sobol_unit(static_cast<uint32_t>(i), dim, seed));
  return out;
}

// The L2-star discrepancy of points in [0, 1]^d by Warnock's formula (1972).
double l2_star_discrepancy(const std::vector<std::vector<double>>& points) {
  const double n = static_cast<double>(points.size());
  const double d = static_cast<double>(points[0].size());
  double single = 0, pairs = 0;
  for (const auto& x : points) {
    double prod = 1;
    for (double v : x) prod *= (1 - v * v) / 2;
    single += prod;
    for (const auto& y : points) {
      double p = 1;
      for (size_t k = 0; k < x.size(); ++k) p *= 1 - std::max(x[k], y[k]);
      pairs += p;
    }
  }
  return std::sqrt(std::pow(3.0, -d) - 2 * single / n + pairs / (n * n));
}

std::vector<std::vector<double>> trial_points(const Study& study, int dims) {
  std::vector<std::vector<double>> out;
  for (const auto& t : study.trials()) {
    std::vector<double> x;
    for (int k = 0; k < dims; ++k) x.push_back(std::get<double>(t->params.at(coordinate_name(k))));
    out.push_back(x);
  }
  return out;
}

}  // namespace

TEST_CASE("the enumerated primitive polynomials are Joe & Kuo's, and the direction numbers valid") {
  // (s, a) of dimensions 2..32 of new-joe-kuo-6.21201.
  const std::vector<std::pair<int, uint32_t>> joe_kuo = {
      {1, 0},  {2, 1},  {3, 1},  {3, 2},  {4, 1},  {4, 4},  {5, 2},  {5, 4},
      {5, 7},  {5, 11}, {5, 13}, {5, 14}, {6, 1},  {6, 13}, {6, 16}, {6, 19},
      {6, 22}, {6, 25}, {7, 1},  {7, 4},  {7, 7},  {7, 8},  {7, 14}, {7, 19},
      {7, 21}, {7, 28}, {7, 31}, {7, 32}, {7, 37}, {7, 41}, {7, 42}};
  CHECK(primitive_polynomials(31) == joe_kuo);
  // v_k = m_k 2^(31 - k) with m_k odd and below 2^(k + 1), in every dimension and bit.
  for (int64_t dim = 0; dim < kSobolDimensions; ++dim)
    for (int k = 0; k < 32; ++k) {
      const uint32_t v = sobol_bits(1u << k, dim);
      const uint32_t m = v >> (31 - k);
      CHECK(m % 2 == 1);
      CHECK(static_cast<uint64_t>(m) < (uint64_t{1} << (k + 1)));
      CHECK((m << (31 - k)) == v);
    }
  CHECK_THROWS_AS(sobol_bits(0, kSobolDimensions), nabla::ValueError);
}

TEST_CASE("the first unscrambled points are the recurrence's, worked by hand") {
  // Dimension 0: van der Corput. Dimension 1 (x + 1, m = 1): v = 1/2, 3/4, 5/8. Dimension 2
  // (x^2 + x + 1, m = 1, 3): v = 1/2, 3/4, and v_2 = v_0 ^ v_0 / 4 ^ v_1 = 3/8.
  const std::vector<double> d0 = {0, 0.5, 0.25, 0.75, 0.125, 0.625, 0.375, 0.875};
  const std::vector<double> d1 = {0, 0.5, 0.75, 0.25, 0.625, 0.125, 0.375, 0.875};
  const std::vector<double> d2 = {0, 0.5, 0.75, 0.25, 0.375, 0.875, 0.625, 0.125};
  CHECK(coordinates(0, 8, std::nullopt) == d0);
  CHECK(coordinates(1, 8, std::nullopt) == d1);
  CHECK(coordinates(2, 8, std::nullopt) == d2);
}

TEST_CASE("dimensions 0 and 1 form (0, m, 2)-nets, before and after scrambling") {
  for (int m = 1; m <= 10; ++m) {
    CHECK(is_net(coordinates(0, 1 << m, std::nullopt), coordinates(1, 1 << m, std::nullopt), m, 0));
    for (uint64_t seed : {1ull, 99ull, 0xdeadbeefcafeull}) {
      const auto xs = coordinates(0, 1 << m, seed), ys = coordinates(1, 1 << m, seed * 7 + 1);
      CHECK(is_net(xs, ys, m, 0));
    }
  }
  // Scrambled, the points are no longer the plain sequence's.
  CHECK(coordinates(0, 4, 5) != coordinates(0, 4, std::nullopt));
}

TEST_CASE("the t-values of every 2-D projection of the 32 dimensions, for 1024 points") {
  constexpr int m = 10;
  std::map<int, int> histogram;
  int worst = 0;
  std::vector<std::vector<double>> plain;
  for (int64_t d = 0; d < kSobolDimensions; ++d)
    plain.push_back(coordinates(d, 1 << m, std::nullopt));
  for (int64_t i = 0; i < kSobolDimensions; ++i)
    for (int64_t j = i + 1; j < kSobolDimensions; ++j) {
      const int t = t_value(plain[static_cast<size_t>(i)], plain[static_cast<size_t>(j)], m);
      ++histogram[t];
      worst = std::max(worst, t);
    }
  std::ostringstream os;
  for (auto [t, count] : histogram) os << " t=" << t << ": " << count;
  MESSAGE("t-values of the 496 projections at 2^10 points:" << os.str());
  // Pinned: a changed direction number moves these counts. Joe & Kuo's search kept t <= 9 over
  // all 21201 dimensions at m = 10; the first 32 stay at 6.
  CHECK(worst == 6);
  CHECK(histogram ==
        std::map<int, int>{{0, 4}, {1, 99}, {2, 196}, {3, 127}, {4, 49}, {5, 19}, {6, 2}});
  // Scrambling keeps each projection's t-value.
  CHECK(t_value(coordinates(30, 1 << m, 3), coordinates(31, 1 << m, 4), m) ==
        t_value(plain[30], plain[31], m));
}

TEST_CASE("scrambled Sobol points have a lower L2-star discrepancy than random ones") {
  std::ostringstream table;
  for (int dims : {2, 4, 8, 12}) {
    double sobol = 0, random = 0;
    for (uint64_t seed = 0; seed < 10; ++seed) {
      std::vector<std::vector<double>> s(256), r(256);
      Rng rng(seed);
      for (int i = 0; i < 256; ++i)
        for (int k = 0; k < dims; ++k) {
          s[static_cast<size_t>(i)].push_back(
              sobol_unit(static_cast<uint32_t>(i), k, seed * 100 + static_cast<uint64_t>(k)));
          r[static_cast<size_t>(i)].push_back(rng.uniform());
        }
      sobol += l2_star_discrepancy(s) / 10;
      random += l2_star_discrepancy(r) / 10;
    }
    table << "  " << dims << "-D: Sobol " << sobol << ", random " << random << "\n";
    // In 12-D, 256 points are far fewer than 2^12 and the last dimensions' projections coarse;
    // the variance bound of a scrambled (t, m, s)-net over random's grows with t and s (Owen,
    // "Monte Carlo variance of scrambled net quadrature", 1997), and here it is not better.
    // Reported, not asserted.
    if (dims <= 8) CHECK(sobol < random);
  }
  MESSAGE("mean L2-star discrepancy of 256 points over 10 seeds\n" << table.str());
}

TEST_CASE("the Sobol sampler: trial k takes point k, stratified, the same with threads") {
  auto run = [](uint64_t seed, int n_jobs, bool scramble = true) {
    Study study = create_study({.sampler = std::make_shared<SobolSampler>(
                                    SobolOptions{.seed = seed, .scramble = scramble})});
    study.optimize(
        [](Trial& t) { return t.suggest_float("x0", 0, 1) + t.suggest_float("x1", 0, 1); },
        {.n_trials = 32, .n_jobs = n_jobs});
    return trial_points(study, 2);
  };
  const auto points = run(7, 1);
  // The first 16 and all 32 trials: one point in every elementary interval of area 1/16, 1/32.
  for (int m : {4, 5}) {
    std::vector<double> xs, ys;
    for (size_t i = 0; i < (size_t{1} << m); ++i) {
      xs.push_back(points[i][0]);
      ys.push_back(points[i][1]);
    }
    CHECK(is_net(xs, ys, m, 0));
  }
  CHECK(points == run(7, 1));
  CHECK(points == run(7, 4));
  CHECK(points != run(8, 1));
  const auto plain = run(7, 1, false);
  CHECK(plain[0] == std::vector<double>{0, 0});
  CHECK(plain[1] == std::vector<double>{0.5, 0.5});
  CHECK(plain[2] == std::vector<double>{0.25, 0.75});
}

TEST_CASE("the Sobol sampler maps ints and categoricals evenly, and draws past 32 dimensions") {
  Study study = create_study({.sampler = std::make_shared<SobolSampler>(SobolOptions{.seed = 3})});
  std::vector<std::vector<double>> wide;
  study.optimize(
      [&](Trial& t) {
        const int64_t n = t.suggest_int("n", 0, 7);
        const std::string c = t.suggest_categorical("c", {"a", "b", "c", "d"});
        std::vector<double> x;
        for (int k = 0; k < 34; ++k) {
          std::string name = "p";
          name += std::to_string(10 + k);
          x.push_back(t.suggest_float(name, 0, 1));
        }
        wide.push_back(x);
        return static_cast<double>(n) + (c == "a" ? 0.0 : 1.0);
      },
      {.n_trials = 8});
  std::map<int64_t, int> ints;
  std::map<std::string, int> choices;
  for (const auto& t : study.trials()) {
    ++ints[std::get<int64_t>(t->params.at("n"))];
    ++choices[std::get<std::string>(t->params.at("c"))];
  }
  CHECK(ints.size() == 8);  // 0..7 once each
  CHECK(choices == std::map<std::string, int>{{"a", 2}, {"b", 2}, {"c", 2}, {"d", 2}});
  // Two of the 36 parameters are past the 32 dimensions. The 30 float ones inside have one point
  // in each eighth of [0, 1]; 8 uniform draws would, with probability 8! / 8^8 = 0.0024.
  int stratified = 0;
  for (size_t k = 0; k < 34; ++k) {
    std::set<int> eighths;
    for (const auto& x : wide) eighths.insert(static_cast<int>(x[k] * 8));
    stratified += eighths.size() == 8;
  }
  CHECK(stratified >= 30);
  std::set<int> last;
  for (const auto& x : wide) last.insert(static_cast<int>(x[33] * 8));
  CHECK(last.size() < 8);
}

TEST_CASE("Sobol search spreads trials more evenly and finds lower regret than random search") {
  // 4-D: f(x) = |x - c|^2, 32 trials, 20 seeds.
  const std::vector<double> c = {0.3, 0.62, 0.45, 0.71};
  auto objective = [&](Trial& t) {
    double f = 0;
    for (int k = 0; k < 4; ++k)
      f += std::pow(t.suggest_float(coordinate_name(k), 0, 1) - c[static_cast<size_t>(k)], 2);
    return f;
  };
  double sobol_regret = 0, random_regret = 0, sobol_discrepancy = 0, random_discrepancy = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Study s = create_study({.sampler = std::make_shared<SobolSampler>(SobolOptions{.seed = seed})});
    s.optimize(objective, {.n_trials = 32});
    Study r = create_study({.sampler = std::make_shared<RandomSampler>(seed)});
    r.optimize(objective, {.n_trials = 32});
    sobol_regret += s.best_value() / 20;
    random_regret += r.best_value() / 20;
    sobol_discrepancy += l2_star_discrepancy(trial_points(s, 4)) / 20;
    random_discrepancy += l2_star_discrepancy(trial_points(r, 4)) / 20;
  }
  MESSAGE("4-D, 32 trials, mean over 20 seeds: regret Sobol "
          << sobol_regret << ", random " << random_regret << "; L2-star discrepancy Sobol "
          << sobol_discrepancy << ", random " << random_discrepancy);
  CHECK(sobol_discrepancy < random_discrepancy);
  CHECK(sobol_regret < random_regret);
}
