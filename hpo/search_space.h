// The search space the trials so far agree on: the parameters every complete trial has, with the
// same distribution. Relative (multivariate) samplers model this space jointly.
#pragma once

#include <map>
#include <mutex>
#include <set>
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

// Note [incremental search space]: a study asks for the intersection before every trial. Its
// histories grow at their end (finished trials are appended in number order), so the space is
// kept and only the new trials are folded in; a history that is not an extension of the last one
// (another process's trial finished out of order) is folded in from scratch. Safe across threads.
class IncrementalSearchSpace {
 public:
  struct Result {
    SearchSpace space;         // as intersection_search_space(history)
    bool conditional = false;  // as has_parameters_outside(history, space)
  };
  Result update(std::span<const TrialPtr> history);

 private:
  void fold(const FrozenTrial& t);

  std::mutex mutex_;
  std::vector<int64_t> ids_;  // the history last folded in, by trial id
  bool any_complete_ = false;
  SearchSpace common_;                 // over its complete trials, single-valued ones included
  std::set<std::string> multivalued_;  // every parameter with more than one value, in any of them
};

// How many points a space of discrete distributions has; nothing if one is continuous or the
// count passes `limit`.
std::optional<int64_t> space_size(const SearchSpace& space, int64_t limit);

}  // namespace nabla::hpo
