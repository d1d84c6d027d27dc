// The search space the trials so far agree on: the parameters every complete trial has, with the
// same distribution. Relative (multivariate) samplers model this space jointly.
#pragma once

#include <map>
#include <span>
#include <string>

#include "hpo/frozen_trial.h"

namespace nabla::hpo {

using SearchSpace = std::map<std::string, Distribution>;

// Over the complete trials of `history` (pruned ones too when asked); single-valued
// distributions are left out, as there is nothing to model.
SearchSpace intersection_search_space(std::span<const TrialPtr> history,
                                      bool include_pruned = false);

// True when some complete trial has a parameter outside `space`: the space is conditional.
bool has_parameters_outside(std::span<const TrialPtr> history, const SearchSpace& space);

// How many points a space of discrete distributions has; nothing if one is continuous or the
// count passes `limit`.
std::optional<int64_t> space_size(const SearchSpace& space, int64_t limit);

}  // namespace nabla::hpo
