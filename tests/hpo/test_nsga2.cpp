// NSGA-II: options, the crowded order by hand, survival of the best fronts in a study, one
// objective, and the hypervolume reached on ZDT1 and ZDT2 against random search.
#include <doctest/doctest.h>

#include <algorithm>

#include "core/error.h"
#include "functions.h"
#include "hpo/hpo.h"

using namespace nabla::hpo;
using namespace nabla::hpo::testing;

namespace {

const std::vector<Direction> kMin2 = {Direction::minimize, Direction::minimize};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return (v[v.size() / 2] + v[(v.size() - 1) / 2]) / 2;
}

}  // namespace

TEST_CASE("Nsga2Options::validate names the bad option") {
  CHECK_THROWS_WITH_AS(Nsga2Sampler({.population_size = 1}),
                       "Nsga2Options::validate: population_size must be >= 2, got 1",
                       nabla::ValueError);
  CHECK_THROWS_WITH_AS(Nsga2Sampler({.variation = {.mutation_sigma = 0}}),
                       "VariationOptions::validate: mutation_sigma must be > 0, got 0",
                       nabla::ValueError);
}

TEST_CASE("the crowded order sorts by front, then by crowding distance") {
  // Front 0: (1,5) (2,3) (4,2) (6,1), with crowding inf, 1.35, 1.3, inf (see test_pareto.cpp);
  // front 1: (3,4) (7,2); front 2: (8,8).
  const std::vector<std::vector<double>> points = {{1, 5}, {2, 3}, {4, 2}, {6, 1},
                                                   {3, 4}, {7, 2}, {8, 8}};
  CHECK(crowded_order(points, kMin2) == std::vector<size_t>{0, 3, 1, 2, 4, 5, 6});
  // Survival of 3 keeps the extremes and the less crowded of the two inner points.
  const auto order = crowded_order(points, kMin2);
  CHECK(std::vector<size_t>(order.begin(), order.begin() + 3) == std::vector<size_t>{0, 3, 1});
}

TEST_CASE("NSGA-II's survivors are never on a worse front than those it drops") {
  auto sampler = std::make_shared<Nsga2Sampler>(Nsga2Options{.seed = 2, .population_size = 12});
  Study study = create_study({.directions = kMin2, .sampler = sampler});
  study.optimize(zdt_objective(4, false), {.n_trials = 120});
  const auto trials = study.trials();
  std::vector<Population> gens;
  for (size_t k = 0; k <= trials.size(); ++k) {
    Population p = sampler->population(std::span(trials).first(k), kMin2);
    if (gens.empty() || p.generation != gens.back().generation) gens.push_back(std::move(p));
  }
  CHECK(gens.back().generation == 10);  // 12 trials per generation
  int64_t dropped = 0;
  for (size_t g = 2; g < gens.size(); ++g) {
    // The candidates: the parents and generation g - 1's offspring.
    std::vector<int64_t> pool = gens[g - 1].parents;
    for (const auto& t : trials)
      if (t->system_attrs.value("nsga2", nlohmann::json::object()).value("generation", -1) ==
          static_cast<int64_t>(g - 1))
        pool.push_back(t->number);
    std::vector<std::vector<double>> points;
    for (int64_t n : pool) points.push_back(trials[static_cast<size_t>(n)]->values);
    std::vector<size_t> front_of(pool.size());
    const auto fronts = non_dominated_sort(points, kMin2);
    for (size_t f = 0; f < fronts.size(); ++f)
      for (size_t i : fronts[f]) front_of[i] = f;
    size_t worst_kept = 0, best_dropped = fronts.size();
    for (size_t i = 0; i < pool.size(); ++i) {
      const bool kept = std::find(gens[g].parents.begin(), gens[g].parents.end(), pool[i]) !=
                        gens[g].parents.end();
      if (kept)
        worst_kept = std::max(worst_kept, front_of[i]);
      else
        best_dropped = std::min(best_dropped, front_of[i]), ++dropped;
    }
    CHECK(gens[g].parents.size() == 12);
    CHECK(worst_kept <= best_dropped);
  }
  CHECK(dropped == 12 * 9);  // each of the 9 survivals drops 12 of 24
}

TEST_CASE("NSGA-II with one objective is a genetic algorithm") {
  auto sampler = std::make_shared<Nsga2Sampler>(Nsga2Options{.seed = 4, .population_size = 10});
  Study study = create_study({.sampler = sampler});
  study.optimize(objective_of(single_objective_functions()[0]), {.n_trials = 150});
  const auto trials = study.trials();
  const auto population = sampler->population(trials, study.directions());
  // One objective: the crowded order is the order of values.
  for (size_t i = 1; i < population.parents.size(); ++i)
    CHECK(trials[static_cast<size_t>(population.parents[i - 1])]->value() <=
          trials[static_cast<size_t>(population.parents[i])]->value());
  CHECK(trials[static_cast<size_t>(population.parents[0])]->value() == study.best_value());
  CHECK(regret(study, single_objective_functions()[0]) < 0.05);
}

TEST_CASE("NSGA-II's front beats random search's in hypervolume on ZDT1 and ZDT2") {
  // 8 dimensions, 300 trials, populations of 20; reference point (1.1, 11) (g <= 10 on the box).
  const std::vector<double> reference = {1.1, 11};
  for (bool concave : {false, true}) {
    std::vector<double> random_hv, nsga2_hv;
    for (uint64_t seed = 0; seed < 8; ++seed) {
      for (bool evolve : {false, true}) {
        std::shared_ptr<Sampler> sampler;
        if (evolve)
          sampler =
              std::make_shared<Nsga2Sampler>(Nsga2Options{.seed = seed, .population_size = 20});
        else
          sampler = std::make_shared<RandomSampler>(seed);
        Study study = create_study({.directions = kMin2, .sampler = sampler});
        study.optimize(zdt_objective(8, concave), {.n_trials = 300});
        std::vector<std::vector<double>> front;
        for (const auto& t : study.best_trials()) front.push_back(t->values);
        (evolve ? nsga2_hv : random_hv).push_back(hypervolume(front, reference, kMin2));
      }
    }
    MESSAGE("ZDT", concave ? 2 : 1,
            " (8-D, 300 trials, 8 seeds, reference (1.1, 11)): median "
            "hypervolume random ",
            median(random_hv), ", NSGA-II ", median(nsga2_hv),
            " (ideal front: ", concave ? 1.1 * 11 - 2.0 / 3 : 1.1 * 11 - 1.0 / 3, ")");
    CHECK(median(nsga2_hv) > median(random_hv) + 0.5);
  }
}
