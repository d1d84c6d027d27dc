// A genetic algorithm for one objective: tournament selection, uniform and simulated binary
// crossover, mutation, and the best individuals carried over from each generation (elitism).
#pragma once

#include "hpo/samplers/evolution.h"

namespace nabla::hpo {

struct GeneticOptions {
  std::optional<uint64_t> seed{};
  int64_t population_size = 50;
  int64_t tournament_size = 3;  // k: each parent is the best of k distinct members
  // The best `elitism` of a population carry over into the next one unevaluated, so each
  // generation after the first runs population_size - elitism new trials.
  int64_t elitism = 2;
  VariationOptions variation{};
  std::shared_ptr<Sampler> independent_sampler{};  // generation 0 and parameters outside the space

  void validate() const;
};

// Note [generational samplers] in evolution.cpp.
class GeneticSampler final : public GenerationalSampler {
 public:
  explicit GeneticSampler(GeneticOptions options = {});
  std::string name() const override { return "genetic"; }
  const GeneticOptions& options() const { return options_; }

 protected:
  std::vector<Individual> rank(std::vector<Individual> members,
                               std::span<const Direction> directions) const override;
  std::vector<Individual> survive(std::vector<Individual> parents,
                                  std::vector<Individual> offspring,
                                  std::span<const Direction> directions) const override;

 private:
  GeneticOptions options_;
};

}  // namespace nabla::hpo
