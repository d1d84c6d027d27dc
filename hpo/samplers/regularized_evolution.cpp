// Regularized evolution: Note [aging evolution] in regularized_evolution.h.
#include "hpo/samplers/regularized_evolution.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "core/error.h"

namespace nabla::hpo {

void RegularizedEvolutionOptions::validate() const {
  NABLA_CHECK(population_size >= 1 && sample_size >= 1 && sample_size <= population_size,
              ValueError,
              "RegularizedEvolutionOptions: need 1 <= sample_size <= population_size, got "
              "sample_size ",
              sample_size, " and population_size ", population_size);
}

RegularizedEvolutionSampler::RegularizedEvolutionSampler(RegularizedEvolutionOptions options)
    : Sampler(options.seed), options_(options) {
  options_.validate();
}

TrialPtr RegularizedEvolutionSampler::parent(const SamplerContext& ctx) const {
  std::vector<TrialPtr> population;
  for (auto it = ctx.history.rbegin();
       it != ctx.history.rend() &&
       static_cast<int64_t>(population.size()) < options_.population_size;
       ++it)
    if ((*it)->state == TrialState::complete) population.push_back(*it);
  if (static_cast<int64_t>(population.size()) < options_.population_size) return nullptr;
  // A partial Fisher-Yates shuffle draws the sample without replacement.
  Rng r = rng(ctx, "parent");
  const bool maximize = ctx.directions[0] == Direction::maximize;
  TrialPtr best;
  for (int64_t i = 0; i < options_.sample_size; ++i) {
    const auto j = i + r.integer(static_cast<int64_t>(population.size()) - i);
    std::swap(population[static_cast<size_t>(i)], population[static_cast<size_t>(j)]);
    const TrialPtr& t = population[static_cast<size_t>(i)];
    if (!best || (maximize ? t->value() > best->value() : t->value() < best->value())) best = t;
  }
  return best;
}

double RegularizedEvolutionSampler::sample_independent(const SamplerContext& ctx,
                                                       const std::string& param,
                                                       const Distribution& d) {
  NABLA_CHECK(ctx.directions.size() == 1, ValueError,
              "RegularizedEvolutionSampler: a study of one objective only, this one has ",
              ctx.directions.size());
  Rng fresh = rng(ctx, param);
  const TrialPtr from = parent(ctx);
  if (!from) return sample_uniform(d, fresh);
  const std::optional<double> inherited = from->internal_value(param, d);
  if (!inherited) return sample_uniform(d, fresh);
  Rng pick = rng(ctx, "mutated parameter");
  auto mutated = from->params.begin();
  std::advance(mutated, pick.integer(static_cast<int64_t>(from->params.size())));
  if (mutated->first != param) return *inherited;
  // A few draws find another value wherever the distribution has more than one.
  constexpr int kDraws = 16;
  double value = sample_uniform(d, fresh);
  for (int i = 1; i < kDraws && value == *inherited; ++i) value = sample_uniform(d, fresh);
  return value;
}

}  // namespace nabla::hpo
