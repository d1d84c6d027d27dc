// The genetic algorithm: options, tournament selection's pressure (exactly, and as a study's
// recorded parents show it), elitism across generations, and mixed spaces with categoricals.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "core/error.h"
#include "hpo/hpo.h"

using namespace nabla::hpo;

namespace {

// Probability that rank r (0-based) wins a k-tournament without replacement among `size`.
double win_probability(int64_t size, int64_t k, int64_t r) {
  auto choose = [](int64_t n, int64_t m) {
    if (m < 0 || m > n) return 0.0;
    double c = 1;
    for (int64_t i = 1; i <= m; ++i)
      c = c * static_cast<double>(n - m + i) / static_cast<double>(i);
    return c;
  };
  return choose(size - 1 - r, k - 1) / choose(size, k);
}

double bowl(Trial& t) {
  const double x = t.suggest_float("x", -4, 4), y = t.suggest_float("y", -4, 4);
  return (x - 1) * (x - 1) + 3 * (y + 0.5) * (y + 0.5);
}

Study genetic_study(GeneticOptions options, Direction direction = Direction::minimize) {
  return create_study(
      {.directions = {direction}, .sampler = std::make_shared<GeneticSampler>(std::move(options))});
}

// The populations the study went through, replayed from each prefix of its trials.
std::vector<Population> generations(const Study& study, const GeneticSampler& sampler) {
  const auto trials = study.trials();
  std::vector<Population> out;
  for (size_t k = 0; k <= trials.size(); ++k) {
    Population p = sampler.population(std::span(trials).first(k), study.directions());
    if (out.empty() || p.generation != out.back().generation) out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

TEST_CASE("GeneticOptions::validate names the bad option") {
  CHECK_THROWS_WITH_AS(GeneticSampler({.population_size = 1}),
                       "GeneticOptions::validate: population_size must be >= 2, got 1",
                       nabla::ValueError);
  CHECK_THROWS_WITH_AS(
      GeneticSampler({.population_size = 4, .tournament_size = 5}),
      "GeneticOptions::validate: tournament_size must be in [1, population_size = 4], got 5",
      nabla::ValueError);
  CHECK_THROWS_AS(GeneticSampler({.population_size = 4, .elitism = 4}), nabla::ValueError);
  CHECK_THROWS_WITH_AS(GeneticSampler({.variation = {.crossover_prob = 2}}),
                       "VariationOptions::validate: crossover_prob must be in [0, 1], got 2",
                       nabla::ValueError);
}

TEST_CASE("a k-tournament picks rank r with probability C(P - 1 - r, k - 1) / C(P, k)") {
  const int64_t size = 10, draws = 40000;
  for (int64_t k : {1, 3}) {
    std::vector<int64_t> wins(size, 0);
    Rng rng(11 + static_cast<uint64_t>(k));
    for (int64_t i = 0; i < draws; ++i) ++wins[static_cast<size_t>(tournament(size, k, rng))];
    for (int64_t r = 0; r < size; ++r)
      CHECK(std::abs(static_cast<double>(wins[static_cast<size_t>(r)]) / draws -
                     win_probability(size, k, r)) < 0.01);
  }
  Rng rng(1);
  CHECK(tournament(5, 5, rng) == 0);  // everyone takes part: the best wins
  CHECK_THROWS_AS(tournament(5, 6, rng), nabla::ValueError);
}

TEST_CASE("a study's parents are ranked as tournament selection predicts") {
  const int64_t size = 12;
  auto mean_parent_rank = [&](int64_t k) {
    auto sampler = std::make_shared<GeneticSampler>(
        GeneticOptions{.seed = 21, .population_size = size, .tournament_size = k});
    Study study = create_study({.sampler = sampler});
    study.optimize(bowl, {.n_trials = 250});
    const auto trials = study.trials();
    double sum = 0;
    int64_t picks = 0;
    for (size_t i = 0; i < trials.size(); ++i) {
      const auto tag = trials[i]->system_attrs.value("genetic", nlohmann::json::object());
      if (!tag.contains("parents")) continue;
      const auto parents =
          sampler->population(std::span(trials).first(i), study.directions()).parents;
      for (int64_t number : tag["parents"]) {
        sum += static_cast<double>(std::find(parents.begin(), parents.end(), number) -
                                   parents.begin());
        ++picks;
      }
    }
    return sum / static_cast<double>(picks);
  };
  auto expected = [&](int64_t k) {
    double e = 0;
    for (int64_t r = 0; r < size; ++r) e += static_cast<double>(r) * win_probability(size, k, r);
    return e;
  };
  const double uniform = mean_parent_rank(1), greedy = mean_parent_rank(5);
  MESSAGE("mean parent rank (0 = best of 12): k = 1 ", uniform, " (expected ", expected(1),
          "), k = 5 ", greedy, " (expected ", expected(5), ")");
  CHECK(uniform == doctest::Approx(expected(1)).epsilon(0.1));
  CHECK(greedy == doctest::Approx(expected(5)).epsilon(0.1));
}

TEST_CASE("elitism carries the best individuals into every next generation") {
  for (Direction direction : {Direction::minimize, Direction::maximize}) {
    auto sampler = std::make_shared<GeneticSampler>(
        GeneticOptions{.seed = 3, .population_size = 10, .elitism = 2});
    Study study = create_study({.directions = {direction}, .sampler = sampler});
    const double sign = direction == Direction::minimize ? 1.0 : -1.0;
    study.optimize([&](Trial& t) { return sign * bowl(t); }, {.n_trials = 170});
    const auto trials = study.trials();
    auto value = [&](int64_t number) {
      return sign * trials[static_cast<size_t>(number)]->value();
    };
    const auto gens = generations(study, *sampler);
    // Generation 0 is 10 trials, each later one 8: 170 trials make 21 generations.
    CHECK(gens.back().generation == 21);
    for (size_t g = 2; g < gens.size(); ++g) {
      const auto& before = gens[g - 1].parents;
      const auto& after = gens[g].parents;
      REQUIRE(after.size() == 10);
      CHECK(std::find(after.begin(), after.end(), before[0]) != after.end());
      CHECK(std::find(after.begin(), after.end(), before[1]) != after.end());
      CHECK(value(after[0]) <= value(before[0]));
      for (size_t i = 1; i < after.size(); ++i) CHECK(value(after[i - 1]) <= value(after[i]));
    }
    // Every trial belonged to some generation, so the population's best is the study's.
    CHECK(trials[static_cast<size_t>(gens.back().parents[0])]->value() == study.best_value());
  }
}

TEST_CASE("the genetic algorithm crosses categoricals uniformly and finds a mixed optimum") {
  Study study = genetic_study({.seed = 8, .population_size = 16});
  study.optimize(
      [](Trial& t) {
        const std::string c = t.suggest_categorical("c", {"a", "b", "c", "d"});
        const int64_t n = t.suggest_int("n", 0, 20);
        const double x = t.suggest_float("x", 0, 1);
        return (c == "c" ? 0.0 : 1.0) + std::abs(static_cast<double>(n) - 13) +
               (x - 0.3) * (x - 0.3);
      },
      {.n_trials = 250});
  CHECK(std::get<std::string>(study.best_params().at("c")) == "c");
  CHECK(std::get<int64_t>(study.best_params().at("n")) == 13);
  CHECK(study.best_value() < 1e-2);
}
