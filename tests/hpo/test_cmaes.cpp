// CMA-ES and what it stands on: the Jacobi eigensolver and the unit-cube encoding; its options;
// convergence on a convex quadratic and Rosenbrock; log, stepped and integer parameters (the
// margin); categoricals left to the independent sampler; IPOP restarts on Rastrigin.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <numbers>
#include <set>

#include "core/error.h"
#include "functions.h"
#include "hpo/hpo.h"
#include "hpo/samplers/encoding.h"
#include "hpo/symmetric_eigen.h"

using namespace nabla::hpo;
using namespace nabla::hpo::testing;

namespace {

Study cmaes_study(CmaEsOptions options) {
  return create_study({.sampler = std::make_shared<CmaEsSampler>(std::move(options))});
}

std::string x_name(int i) { return std::string("x").append(std::to_string(i)); }

// A convex quadratic with axis scales 1, 10 and 100 and its minimum off-centre, on [-5, 5]^3.
double quadratic(Trial& t) {
  const double centre[3] = {1.5, -2.0, 0.5};
  double sum = 0;
  for (int i = 0; i < 3; ++i) {
    const double d = t.suggest_float(x_name(i), -5, 5) - centre[i];
    sum += std::pow(10.0, i) * d * d;
  }
  return sum;
}

// Rastrigin on [-5.12, 5.12]^2: a lattice of local minima around the global one at 0.
double rastrigin(Trial& t) {
  double sum = 20;
  for (int i = 0; i < 2; ++i) {
    const double x = t.suggest_float(x_name(i), -5.12, 5.12);
    sum += x * x - 10 * std::cos(2 * std::numbers::pi * x);
  }
  return sum;
}

const nlohmann::json* tag_of(const TrialPtr& t) {
  auto it = t->system_attrs.find("cmaes");
  return it == t->system_attrs.end() ? nullptr : &*it;
}

}  // namespace

TEST_CASE("symmetric_eigen diagonalizes symmetric matrices") {
  // [[2, 1, 0], [1, 2, 0], [0, 0, 5]]: eigenvalues 1, 3, 5.
  const std::vector<double> a = {2, 1, 0, 1, 2, 0, 0, 0, 5};
  SymmetricEigen e = symmetric_eigen(a, 3);
  CHECK(e.values[0] == doctest::Approx(1));
  CHECK(e.values[1] == doctest::Approx(3));
  CHECK(e.values[2] == doctest::Approx(5));
  CHECK(std::abs(e.vectors[0 * 3 + 0]) == doctest::Approx(std::sqrt(0.5)));
  CHECK(e.vectors[0 * 3 + 0] == doctest::Approx(-e.vectors[1 * 3 + 0]));

  // A 6 x 6 one: V diag(w) V^T gives it back and V is orthonormal.
  Rng rng(3);
  const int64_t n = 6;
  std::vector<double> b(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) b[i * n + j] = b[j * n + i] = rng.uniform(-1, 1);
  e = symmetric_eigen(b, n);
  double worst = 0, worst_orthogonality = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double back = 0, dot = 0;
      for (int64_t k = 0; k < n; ++k) {
        back += e.vectors[i * n + k] * e.values[k] * e.vectors[j * n + k];
        dot += e.vectors[k * n + i] * e.vectors[k * n + j];
      }
      worst = std::max(worst, std::abs(back - b[i * n + j]));
      worst_orthogonality = std::max(worst_orthogonality, std::abs(dot - (i == j ? 1 : 0)));
    }
  CHECK(worst < 1e-12);
  CHECK(worst_orthogonality < 1e-12);
  for (int64_t k = 1; k < n; ++k) CHECK(e.values[k - 1] <= e.values[k]);
  CHECK_THROWS_AS(symmetric_eigen(b, 5), nabla::ValueError);
}

TEST_CASE("the unit-cube encoding gives every grid point an equal cell") {
  const Distribution ints = make_int("n", 0, 4, false, 1);
  CHECK(to_unit(ints, 0) == doctest::Approx(0.1));
  CHECK(to_unit(ints, 4) == doctest::Approx(0.9));
  CHECK(snap(ints, from_unit(ints, 0.0)) == 0);
  CHECK(snap(ints, from_unit(ints, 0.59)) == 2);
  CHECK(snap(ints, from_unit(ints, 1.0)) == 4);
  const Distribution log_float = make_float("lr", 1e-4, 1, true, std::nullopt);
  CHECK(to_unit(log_float, 1e-2) == doctest::Approx(0.5));
  CHECK(from_unit(log_float, 0.25) == doctest::Approx(1e-3));
  const Distribution stepped = make_float("p", 0, 1, false, 0.25);  // 5 points, cells of 0.2
  CHECK(to_unit(stepped, 0.25) == doctest::Approx(0.3));
  const Distribution log_int = make_int("w", 1, 100, true, 1);
  CHECK(to_unit(log_int, 1) == doctest::Approx(std::log(2.0) / std::log(201.0)));
  CHECK(from_unit(log_int, to_unit(log_int, 37)) == doctest::Approx(37));
  CHECK_THROWS_AS(to_unit(make_categorical("c", {"a", "b"}), 0), nabla::ValueError);

  const SearchSpace one = {{"n", ints}}, other = {{"n", make_int("n", 0, 5, false, 1)}};
  CHECK(space_fingerprint(one) == space_fingerprint(SearchSpace{{"n", ints}}));
  CHECK(space_fingerprint(one) != space_fingerprint(other));
  CHECK(space_fingerprint(one).size() == 16);
}

TEST_CASE("CmaEsOptions::validate names the bad option") {
  CHECK_THROWS_WITH_AS(CmaEsSampler({.sigma0 = -1}),
                       "CmaEsOptions::validate: sigma0 must be > 0 (unit-cube units), got -1",
                       nabla::ValueError);
  CHECK_THROWS_WITH_AS(CmaEsSampler({.popsize = 1}),
                       "CmaEsOptions::validate: popsize must be >= 2, got 1", nabla::ValueError);
  CHECK_THROWS_WITH_AS(CmaEsSampler({.margin = 1.5}),
                       "CmaEsOptions::validate: margin must be in (0, 1), got 1.5",
                       nabla::ValueError);
  CHECK_THROWS_AS(CmaEsSampler({.tol_condition = 1}), nabla::ValueError);

  // x0 must be a value the parameter takes; a study with two objectives is refused.
  Study off_grid = cmaes_study({.seed = 1, .x0 = {{"n", 2.5}}});
  CHECK_THROWS_WITH_AS(
      off_grid.optimize([](Trial& t) { return static_cast<double>(t.suggest_int("n", 0, 5)); },
                        {.n_trials = 3, .catch_errors = false}),
      "CmaEsSampler: x0['n'] = 2.5 is not a value of "
      "{\"high\":5,\"log\":false,\"low\":0,\"step\":1,\"type\":\"int\"}",
      nabla::ValueError);
  Study two = create_study({.directions = {Direction::minimize, Direction::minimize},
                            .sampler = std::make_shared<CmaEsSampler>(CmaEsOptions{.seed = 1})});
  CHECK_THROWS_AS(two.optimize(
                      [](Trial& t) {
                        return std::vector<double>{t.suggest_float("x", 0, 1), 0.0};
                      },
                      {.n_trials = 2}),
                  nabla::ValueError);
}

TEST_CASE("CMA-ES converges on a convex quadratic and on Rosenbrock") {
  const TestFunction& rosenbrock_fn = single_objective_functions()[2];
  for (uint64_t seed : {1, 2, 3}) {
    Study q = cmaes_study({.seed = seed});
    q.optimize(quadratic, {.n_trials = 500});
    MESSAGE("seed ", seed, ": quadratic regret ", q.best_value());
    CHECK(q.best_value() < 1e-6);
    Study r = cmaes_study({.seed = seed});
    r.optimize(objective_of(rosenbrock_fn), {.n_trials = 800});
    MESSAGE("seed ", seed, ": rosenbrock regret ", regret(r, rosenbrock_fn));
    CHECK(regret(r, rosenbrock_fn) < 1e-8);
  }
}

TEST_CASE("CMA-ES samples log, stepped and integer parameters, and the margin keeps grids moving") {
  // Log and stepped parameters: the optimum lr = 1e-3, p = 0.6 is found on its grid.
  Study mixed = cmaes_study({.seed = 4});
  mixed.optimize(
      [](Trial& t) {
        const double lr = t.suggest_float("lr", 1e-6, 1, {.log = true});
        const double p = t.suggest_float("p", 0, 1, {.step = 0.2});
        const int64_t w = t.suggest_int("w", 1, 1024, {.log = true});
        return std::pow(std::log10(lr) + 3, 2) + std::abs(p - 0.6) + std::pow(std::log2(w) - 5, 2);
      },
      {.n_trials = 300});
  CHECK(mixed.best_value() < 1e-3);
  CHECK(std::get<double>(mixed.best_params().at("p")) == doctest::Approx(0.6));
  CHECK(std::get<int64_t>(mixed.best_params().at("w")) == 32);

  // x drives sigma down fast while n still has to climb from 0 to 8: without the margin n freezes
  // wherever sigma left it (Note [margin]).
  auto reaches = [](std::optional<double> margin) {
    int hits = 0;
    for (uint64_t seed = 0; seed < 10; ++seed) {
      CmaEsOptions options{
          .seed = seed, .x0 = {{"x", 0.9}, {"n", 0}}, .sigma0 = 0.05, .restarts = false};
      options.margin = margin;
      Study study = cmaes_study(options);
      study.optimize(
          [](Trial& t) {
            const double x = t.suggest_float("x", 0, 1);
            const int64_t n = t.suggest_int("n", 0, 10);
            return 1e4 * (x - 0.3) * (x - 0.3) + std::abs(static_cast<double>(n) - 8);
          },
          {.n_trials = 400});
      hits += std::get<int64_t>(study.best_params().at("n")) == 8;
    }
    return hits;
  };
  const int with_margin = reaches(std::nullopt), without = reaches(1e-300);
  MESSAGE("n reached 8 in ", with_margin, "/10 seeds with the margin, ", without,
          "/10 with it (almost) off");
  CHECK(with_margin == 10);
  CHECK(without <= 6);
}

TEST_CASE("CMA-ES models the numeric parameters and leaves categoricals to the fallback") {
  Study study = cmaes_study({.seed = 5});
  study.optimize(
      [](Trial& t) {
        const double x = t.suggest_float("x", -3, 3), y = t.suggest_float("y", -3, 3);
        const std::string c = t.suggest_categorical("c", {"a", "b", "c"});
        return x * x + y * y + (c == "b" ? 0.0 : 1.0);
      },
      {.n_trials = 150});
  std::set<std::string> choices;
  int64_t tagged = 0;
  for (const auto& t : study.trials()) {
    choices.insert(std::get<std::string>(t->params.at("c")));
    if (const auto* tag = tag_of(t)) {
      ++tagged;
      CHECK((*tag)["x"].size() == 2);  // x and y only
    }
  }
  CHECK(tagged == 149);  // all but the first trial, which had no history to model
  CHECK(choices.size() == 3);
  MESSAGE("best value ", study.best_value());
  CHECK(study.best_value() < 1e-2);
}

TEST_CASE("IPOP restarts double the population when CMA-ES stalls on Rastrigin") {
  for (uint64_t seed : {1, 2}) {
    // Looser tolerances than the defaults, so that stalls come within a short test.
    Study study = cmaes_study({.seed = seed, .tol_x = 1e-4, .tol_fun = 1e-4});
    study.optimize(rastrigin, {.n_trials = 900});
    std::map<std::pair<int64_t, int64_t>, int64_t> members;  // (restart, generation) -> trials
    std::map<int64_t, int64_t> popsize;
    std::map<int64_t, double> best;
    for (const auto& t : study.trials()) {
      const auto* tag = tag_of(t);
      if (!tag) continue;
      const int64_t r = (*tag)["restart"];
      ++members[{r, (*tag)["generation"].get<int64_t>()}];
      popsize[r] = (*tag)["popsize"];
      best[r] = best.contains(r) ? std::min(best[r], t->value()) : t->value();
    }
    MESSAGE("seed ", seed, ": ", popsize.size(), " runs, best values ", best[0], " then ", best[1]);
    REQUIRE(popsize.size() >= 2);
    for (const auto& [r, lambda] : popsize) CHECK(lambda == 6 << r);  // 4 + floor(3 ln 2) = 6
    // With one job every trial sees all before it: each generation but the last has exactly
    // popsize members.
    for (auto it = members.begin(); std::next(it) != members.end(); ++it)
      CHECK(it->second == popsize[it->first.first]);
  }
}
