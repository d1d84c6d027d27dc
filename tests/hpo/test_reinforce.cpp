// The REINFORCE controller (Note [reinforce replay]): its policy moves toward the choices that
// did better than the baseline, by the rule's own arithmetic, and it optimizes a discrete space.
#include <doctest/doctest.h>

#include <cmath>

#include "core/error.h"
#include "hpo/hpo.h"

using namespace nabla::hpo;

namespace {

TrialPtr complete_trial(int64_t number, const std::string& choice, double value) {
  auto t = std::make_shared<FrozenTrial>();
  t->number = number;
  t->state = TrialState::complete;
  t->values = {value};
  t->params["c"] = choice;
  t->distributions["c"] = CategoricalDistribution{{std::string("a"), std::string("b")}};
  return t;
}

}  // namespace

TEST_CASE("reinforce: one update by hand, and the policy follows the reward") {
  const Distribution d = CategoricalDistribution{{std::string("a"), std::string("b")}};
  ReinforceSampler sampler({.learning_rate = 0.1, .baseline_decay = 0.5});
  // No history: uniform.
  auto p = sampler.probabilities({}, Direction::maximize, "c", d);
  REQUIRE(p.size() == 2);
  CHECK(p[0] == doctest::Approx(0.5));
  // Trial 0 sets the baseline (reward 1, advantage 0); trial 1 chose b with reward 3: the gap 2,
  // the scale 0.5 * 2 = 1, so b's logit gains 0.1 * 2 * (1 - 0.5) and a's loses as much.
  std::vector<TrialPtr> history = {complete_trial(0, "a", 1), complete_trial(1, "b", 3)};
  p = sampler.probabilities(history, Direction::maximize, "c", d);
  CHECK(p[1] == doctest::Approx(1 / (1 + std::exp(-0.2))));
  // Minimizing, the same history says a is better.
  CHECK(sampler.probabilities(history, Direction::minimize, "c", d)[0] > 0.5);
  // A continuous float has no policy.
  CHECK(sampler
            .probabilities(history, Direction::maximize, "x",
                           FloatDistribution{.low = 0, .high = 1, .log = false, .step = {}})
            .empty());

  // On a space of 4 x 8 x 3 choices it finds the best and draws it most of the time by the end.
  Study study =
      create_study({.sampler = std::make_shared<ReinforceSampler>(ReinforceOptions{.seed = 5})});
  study.optimize(
      [](Trial& t) {
        const int64_t n = t.suggest_int("n", 0, 7);
        const std::string c = t.suggest_categorical("c", {"a", "b", "c"});
        const int64_t k = t.suggest_categorical("k", {1, 2, 3, 4});
        return static_cast<double>(std::abs(n - 5) + (c == "b" ? 0 : 1) + std::abs(k - 2));
      },
      {.n_trials = 150});
  CHECK(study.best_value() == 0);
  int best_late = 0;
  for (size_t k = 120; k < 150; ++k) best_late += study.trials()[k]->value() == 0;
  CHECK(best_late >= 10);  // random search would draw it 0.3 times in 30

  CHECK_THROWS_AS(ReinforceSampler({.learning_rate = 0}), nabla::ValueError);
  CHECK_THROWS_AS(ReinforceSampler({.baseline_decay = 1}), nabla::ValueError);
}
