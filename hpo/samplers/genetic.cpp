// The genetic algorithm's ranking (by value) and elitist generational survival.
#include "hpo/samplers/genetic.h"

#include <algorithm>

#include "core/error.h"

namespace nabla::hpo {

void GeneticOptions::validate() const {
  NABLA_CHECK(population_size >= 2, ValueError,
              "GeneticOptions::validate: population_size must be >= 2, got ", population_size);
  NABLA_CHECK(tournament_size >= 1 && tournament_size <= population_size, ValueError,
              "GeneticOptions::validate: tournament_size must be in [1, population_size = ",
              population_size, "], got ", tournament_size);
  NABLA_CHECK(elitism >= 0 && elitism < population_size, ValueError,
              "GeneticOptions::validate: elitism must be in [0, population_size = ",
              population_size, "), got ", elitism);
  variation.validate();
}

namespace {

// Validated before the base class is built from them.
GenerationalSampler::Settings settings_of(const GeneticOptions& options) {
  options.validate();
  return {.population_size = options.population_size,
          .offspring = options.population_size - options.elitism,
          .tournament_size = options.tournament_size,
          .single_objective = true,
          .variation = options.variation,
          .independent_sampler = options.independent_sampler};
}

}  // namespace

GeneticSampler::GeneticSampler(GeneticOptions options)
    : GenerationalSampler(options.seed, settings_of(options)), options_(std::move(options)) {}

std::vector<GenerationalSampler::Individual> GeneticSampler::rank(
    std::vector<Individual> members, std::span<const Direction> directions) const {
  const double sign = directions[0] == Direction::minimize ? 1.0 : -1.0;
  std::sort(members.begin(), members.end(), [sign](const Individual& a, const Individual& b) {
    const double x = sign * a.values[0], y = sign * b.values[0];
    return x < y || (x == y && a.number < b.number);
  });
  return members;
}

std::vector<GenerationalSampler::Individual> GeneticSampler::survive(
    std::vector<Individual> parents, std::vector<Individual> offspring,
    std::span<const Direction> directions) const {
  parents.resize(static_cast<size_t>(options_.elitism));
  for (auto& child : offspring) parents.push_back(std::move(child));
  return rank(std::move(parents), directions);
}

}  // namespace nabla::hpo
