// What the genetic algorithm and NSGA-II share: generations replayed from trial attributes,
// tournament selection, and variation (crossover and mutation) over a mixed search space.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hpo/sampler.h"

namespace nabla::hpo {

// Crossover and mutation of a child's genes: unit-cube values for numeric parameters (linear or
// log, samplers/encoding.h), choice indices for categorical ones.
struct VariationOptions {
  // With this probability two parents cross over; otherwise the child copies the first parent.
  double crossover_prob = 0.9;
  // Crossover takes each gene from either parent at random (uniform crossover); a numeric gene is,
  // with probability one half, instead one of the two children of simulated binary crossover
  // (Deb & Agrawal 1995) with this distribution index (larger: children nearer their parents).
  double sbx_eta = 20;
  // Each gene mutates with this probability; none: 1 / number of genes. A numeric gene moves by
  // a Gaussian step of mutation_sigma in the unit cube (clipped into it), a categorical one is
  // redrawn uniformly from its choices.
  std::optional<double> mutation_prob{};
  double mutation_sigma = 0.1;

  void validate() const;
};

// A tournament among k distinct members drawn uniformly from a population of `size` ranked best
// first: the winner's rank (the smallest drawn), 0-based. Rank r wins with probability
// C(size - 1 - r, k - 1) / C(size, k); k = 1 is uniform, larger k is greedier.
int64_t tournament(int64_t size, int64_t k, Rng& rng);

// The population the next trial draws its parents from.
struct Population {
  int64_t generation = 0;          // the generation being sampled
  std::vector<int64_t> parents{};  // trial numbers, best first; empty while generation 0 fills
};

// Note [generational samplers] in evolution.cpp.
class GenerationalSampler : public Sampler {
 public:
  // What a subclass sets, from its options (validated before).
  struct Settings {
    int64_t population_size = 0;
    int64_t offspring = 0;  // new trials per generation after the first
    int64_t tournament_size = 2;
    bool single_objective = false;
    VariationOptions variation{};
    std::shared_ptr<Sampler> independent_sampler{};  // null: random search with the same seed
  };

  // The whole intersection space, categoricals included.
  SearchSpace infer_relative_search_space(const SamplerContext& ctx) override;
  std::map<std::string, double> sample_relative(const SamplerContext& ctx,
                                                const SearchSpace& space) override;
  // Parameters outside the space, and all of generation 0, go to the independent sampler.
  double sample_independent(const SamplerContext& ctx, const std::string& param,
                            const Distribution& d) override;

  // The population after replaying `history`, over its intersection space.
  Population population(std::span<const TrialPtr> history,
                        std::span<const Direction> directions) const;

 protected:
  struct Individual {
    int64_t number = -1;
    std::vector<double> values{};  // the trial's objective values, as reported
    std::vector<double> genes{};   // in the space's parameter order
  };
  GenerationalSampler(std::optional<uint64_t> seed, Settings settings);

  // Generation 0's members in selection order, best first.
  virtual std::vector<Individual> rank(std::vector<Individual> members,
                                       std::span<const Direction> directions) const = 0;
  // The next population, best first, from the ranked parents and the offspring they produced.
  virtual std::vector<Individual> survive(std::vector<Individual> parents,
                                          std::vector<Individual> offspring,
                                          std::span<const Direction> directions) const = 0;

 private:
  struct Replayed {
    int64_t generation = 0;
    std::vector<Individual> parents{};
  };
  Replayed replay(std::span<const TrialPtr> history, std::span<const Direction> directions,
                  const SearchSpace& space) const;

  Settings settings_;
};

}  // namespace nabla::hpo
