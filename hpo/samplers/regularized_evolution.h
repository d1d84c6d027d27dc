// Regularized (aging) evolution (Real et al., 2019, "Regularized Evolution for Image Classifier
// Architecture Search"): the population is the most recent complete trials; each new trial copies
// the best of a random sample of them and changes one parameter.
#pragma once

#include <cstdint>
#include <optional>

#include "hpo/sampler.h"

namespace nabla::hpo {

struct RegularizedEvolutionOptions {
  int64_t population_size = 20;  // the newest complete trials; older ones age out
  int64_t sample_size = 5;       // the tournament: the best of this many is the parent
  std::optional<uint64_t> seed{};

  // A ValueError unless 1 <= sample_size <= population_size.
  void validate() const;
};

// Note [aging evolution]: trial k's parent is the best of sample_size trials drawn without
// replacement from the population_size newest complete trials it sees (its history, so a seeded
// study is the same with threads). The child takes the parent's value for every parameter it asks
// for, except one, drawn uniformly from the parent's parameters, which it draws anew (another
// value than the parent's, where the distribution has one). Parameters the parent lacks (a
// conditional parameter, such as a stage the parent did not have) are drawn at random. Until the
// population is full every trial is random search. Aging rather than removing the worst keeps
// the population from clinging to a lucky early trial.
class RegularizedEvolutionSampler final : public Sampler {
 public:
  explicit RegularizedEvolutionSampler(RegularizedEvolutionOptions options = {});

  std::string name() const override { return "regularized_evolution"; }
  // Single-objective only: a ValueError for a study of several objectives.
  double sample_independent(const SamplerContext& ctx, const std::string& param,
                            const Distribution& d) override;

 private:
  // The parent's trial, or null while the population fills.
  TrialPtr parent(const SamplerContext& ctx) const;

  RegularizedEvolutionOptions options_;
};

}  // namespace nabla::hpo
