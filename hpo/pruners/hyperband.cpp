// The Hyperband pruner (Note [hyperband brackets]).
#include "hpo/pruners/hyperband.h"

#include <cmath>
#include <numeric>

#include "core/error.h"

namespace nabla::hpo {

void HyperbandPrunerOptions::validate() const {
  NABLA_CHECK(min_resource >= 1, ValueError, "HyperbandPruner: min_resource must be >= 1, got ",
              min_resource);
  NABLA_CHECK(max_resource >= min_resource, ValueError, "HyperbandPruner: max_resource (",
              max_resource, ") must be >= min_resource (", min_resource, ")");
  NABLA_CHECK(reduction_factor >= 2, ValueError,
              "HyperbandPruner: reduction_factor must be >= 2, got ", reduction_factor);
}

HyperbandPruner::HyperbandPruner(HyperbandPrunerOptions options) : options_(options) {
  options_.validate();
  const int64_t eta = options_.reduction_factor;
  int64_t s_max = 0;
  for (int64_t r = options_.min_resource; r <= options_.max_resource / eta; r *= eta) ++s_max;
  for (int64_t i = 0; i <= s_max; ++i) {
    brackets_.emplace_back(SuccessiveHalvingPrunerOptions{.min_resource = options_.min_resource,
                                                          .reduction_factor = eta,
                                                          .min_early_stopping_rate = i,
                                                          .max_resource = options_.max_resource});
    const int64_t s = s_max - i;
    int64_t power = 1;
    for (int64_t j = 0; j < s; ++j) power *= eta;
    const int64_t numerator = (s_max + 1) * power;
    shares_.push_back((numerator + s) / (s + 1));  // ceil(numerator / (s + 1))
    total_ += shares_.back();
  }
  stride_ = std::llround(static_cast<double>(total_) * (std::sqrt(5.0) - 1) / 2);
  while (std::gcd(stride_, total_) != 1) ++stride_;
}

int64_t HyperbandPruner::bracket_trials(int64_t bracket) const {
  NABLA_CHECK(bracket >= 0 && bracket < n_brackets(), ValueError,
              "HyperbandPruner::bracket_trials: bracket ", bracket, " is not in [0, ", n_brackets(),
              ")");
  return shares_[static_cast<size_t>(bracket)];
}

int64_t HyperbandPruner::bracket_of(int64_t trial_number) const {
  NABLA_CHECK(trial_number >= 0, ValueError,
              "HyperbandPruner::bracket_of: trial numbers are >= 0, got ", trial_number);
  using Wide = unsigned __int128;  // (k mod T) * g overflows 64 bits once T passes 2^32
  const auto slot = static_cast<int64_t>(static_cast<Wide>(trial_number % total_) *
                                         static_cast<Wide>(stride_) % static_cast<Wide>(total_));
  int64_t bracket = 0;
  for (int64_t start = 0; slot >= start + shares_[static_cast<size_t>(bracket)]; ++bracket)
    start += shares_[static_cast<size_t>(bracket)];
  return bracket;
}

bool HyperbandPruner::prune(const PrunerContext& ctx) {
  const int64_t bracket = bracket_of(ctx.trial.number);
  std::vector<TrialPtr> peers;
  for (const auto& t : ctx.history)
    if (bracket_of(t->number) == bracket) peers.push_back(t);
  return brackets_[static_cast<size_t>(bracket)].prune(
      PrunerContext{peers, ctx.trial, ctx.directions});
}

}  // namespace nabla::hpo
