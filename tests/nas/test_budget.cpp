// Budgets for hardware-aware search: parameter counts from the architecture alone, pruning over
// budget, and a two-objective search (the synthetic score against predicted latency) whose
// Pareto front NSGA-II returns.
#include <doctest/doctest.h>

#include "hpo/hpo.h"
#include "hpo/nas/budget.h"

using namespace nabla;
using namespace nabla::hpo;
using namespace nabla::hpo::nas;

TEST_CASE("nas budget: parameter counts without building, and pruning over a budget") {
  Study study = create_study({.sampler = std::make_shared<RandomSampler>(8)});
  int over = 0;
  study.optimize(
      [&](Trial& t) {
        const MacroArchitecture a = sample_architecture(t);
        const int64_t n = count_parameters(a);
        CHECK(n == MacroNetwork(a).num_parameters());
        over += n > 200'000;
        require_within(a, {.max_parameters = 200'000});
        return static_cast<double>(n);
      },
      {.n_trials = 40});
  int pruned = 0;
  for (const auto& t : study.trials()) {
    if (t->state == TrialState::complete) CHECK(t->value() <= 200'000);
    pruned += t->state == TrialState::pruned;
  }
  CHECK(pruned == over);
  CHECK(over > 0);
  CHECK(over < 40);
  // A latency budget needs a table to predict with.
  const MacroArchitecture small{.base_width = 8, .stages = {{}, {}}};
  CHECK_THROWS_AS(require_within(small, {.max_latency_ms = 1.0}), ValueError);
}

TEST_CASE("nas budget: NSGA-II trades size against latency and returns the Pareto front") {
  LatencyTable table({.batch = 1, .image_size = 16, .warmup = 0, .runs = 3});
  Study study = create_study(
      {.directions = {Direction::minimize, Direction::minimize},
       .sampler = std::make_shared<Nsga2Sampler>(Nsga2Options{.seed = 9, .population_size = 8})});
  study.optimize(
      [&](Trial& t) {
        const MacroArchitecture a = sample_architecture(t, {.max_stages = 3, .max_blocks = 2});
        // A stand-in for error: fewer parameters, larger error.
        const double error = 1e5 / static_cast<double>(count_parameters(a));
        return std::vector<double>{error, table.predict_ms(a)};
      },
      {.n_trials = 24});
  const auto front = study.best_trials();
  REQUIRE(!front.empty());
  for (const auto& a : front)
    for (const auto& b : study.trials()) {
      if (b->state != TrialState::complete) continue;
      const bool dominates = b->values[0] <= a->values[0] && b->values[1] <= a->values[1] &&
                             (b->values[0] < a->values[0] || b->values[1] < a->values[1]);
      CHECK_FALSE(dominates);
    }
}
