// Every sampler and pruner by name: each runs a small study with valid parameters, a seeded
// sampler repeats itself, and bad names or options are refused with what exists.
#include <doctest/doctest.h>

#include "core/error.h"
#include "functions.h"
#include "hpo/factory.h"
#include "hpo/hpo.h"

using namespace nabla::hpo;

TEST_CASE("every registered sampler runs a mixed space and repeats itself under a seed") {
  REQUIRE(!sampler_names().empty());
  for (const auto& name : sampler_names()) {
    if (name == "grid") continue;  // needs its grid as an option: tested in test_grid.cpp
    CAPTURE(name);
    auto run = [&] {
      Study study = create_study({.sampler = make_sampler(name, {}, 5)});
      study.optimize(
          [](Trial& t) {
            const double x = t.suggest_float("x", -2, 2);
            const int64_t n = t.suggest_int("n", 1, 16, {.log = true});
            const std::string c = t.suggest_categorical("c", {"a", "b", "c"});
            return x * x + static_cast<double>(n) + (c == "b" ? 0.0 : 1.0);
          },
          {.n_trials = 25});
      std::vector<std::map<std::string, ParamValue>> params;
      for (const auto& t : study.trials()) {
        CHECK(t->state == TrialState::complete);
        params.push_back(t->params);
      }
      return params;
    };
    CHECK(run() == run());
  }
}

TEST_CASE("every registered pruner can be built and asked") {
  REQUIRE(!pruner_names().empty());
  // The threshold pruner needs a bound; every other pruner has defaults for everything.
  const std::map<std::string, nlohmann::json> options = {
      {"threshold", {{"upper", nlohmann::json::array({1.5})}}}};
  for (const auto& name : pruner_names()) {
    CAPTURE(name);
    const nlohmann::json given = options.contains(name) ? options.at(name) : nlohmann::json();
    Study study = create_study(
        {.sampler = make_sampler("random", {}, 1), .pruner = make_pruner(name, given)});
    study.optimize(
        [](Trial& t) {
          const double x = t.suggest_float("x", 0, 1);
          for (int64_t step = 0; step < 5; ++step) {
            t.report(step, x * static_cast<double>(step + 1));
            if (t.should_prune()) throw TrialPruned();
          }
          return x;
        },
        {.n_trials = 20});
    CHECK(study.trials().size() == 20);
    int64_t pruned = 0;
    for (const auto& t : study.trials()) pruned += t->state == TrialState::pruned;
    // Reports grow with x, so trials with a large x stop early, under every pruner but none.
    if (name == "none")
      CHECK(pruned == 0);
    else
      CHECK(pruned > 0);
  }
}

TEST_CASE("unknown names and options are refused with what exists") {
  CHECK_THROWS_WITH_AS(make_sampler("annealing", {}, 1),
                       doctest::Contains("make_sampler: unknown sampler 'annealing'; known: "),
                       nabla::ValueError);
  CHECK_THROWS_WITH_AS(make_sampler("random", {{"gamma", 1}}, 1),
                       "sampler random: unknown option 'gamma' (it takes none)", nabla::ValueError);
  CHECK_THROWS_AS(make_pruner("sometimes", {}), nabla::ValueError);
}
