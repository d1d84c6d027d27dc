// Regularized evolution (Note [aging evolution]): random search until the population fills, then
// each child is a parent from the population with exactly one parameter changed.
#include <doctest/doctest.h>

#include <set>

#include "core/error.h"
#include "hpo/hpo.h"

using namespace nabla::hpo;

namespace {

double objective(Trial& t) {
  const double x = t.suggest_float("x", -5, 5);
  const int64_t n = t.suggest_int("n", 0, 9);
  const std::string c = t.suggest_categorical("c", {"a", "b", "c"});
  return x * x + static_cast<double>(n) + (c == "a" ? 0.0 : 1.0);
}

}  // namespace

TEST_CASE("regularized evolution: children differ from a population member in one parameter") {
  RegularizedEvolutionOptions o{.population_size = 10, .sample_size = 3, .seed = 7};
  Study study = create_study({.sampler = std::make_shared<RegularizedEvolutionSampler>(o)});
  study.optimize(objective, {.n_trials = 60});
  const auto trials = study.trials();
  REQUIRE(trials.size() == 60);
  for (size_t k = 10; k < trials.size(); ++k) {
    // Some member of the 10 trials before k is its parent: all parameters but one equal.
    bool has_parent = false;
    for (size_t p = k - 10; p < k && !has_parent; ++p) {
      int differing = 0;
      for (const auto& [name, value] : trials[k]->params)
        differing += trials[p]->params.at(name) != value;
      has_parent = differing == 1;
    }
    CAPTURE(k);
    CHECK(has_parent);
  }
  // The same seed, the same study.
  Study again = create_study({.sampler = std::make_shared<RegularizedEvolutionSampler>(o)});
  again.optimize(objective, {.n_trials = 60});
  for (size_t k = 0; k < trials.size(); ++k) CHECK(again.trials()[k]->params == trials[k]->params);
  // It optimizes: random search's trials average 25 / 3 + 4.5 + 2 / 3 = 13.5; the last 20 here
  // (each one mutation from a good parent, the mutated x drawn anew over [-5, 5]) average 6.05.
  double late = 0;
  for (size_t k = 40; k < 60; ++k) late += trials[k]->value();
  CHECK(late / 20 < 9.0);

  CHECK_THROWS_AS(RegularizedEvolutionSampler({.population_size = 3, .sample_size = 4}),
                  nabla::ValueError);
  Study two = create_study({.directions = {Direction::minimize, Direction::minimize},
                            .sampler = std::make_shared<RegularizedEvolutionSampler>()});
  CHECK_THROWS_AS(two.optimize(
                      [](Trial& t) {
                        return std::vector<double>{t.suggest_float("x", 0, 1), 0.0};
                      },
                      {.n_trials = 1, .catch_errors = false}),
                  nabla::ValueError);
}
