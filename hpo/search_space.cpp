// Intersection search space over finished trials.
#include "hpo/search_space.h"

namespace nabla::hpo {

SearchSpace intersection_search_space(std::span<const TrialPtr> history, bool include_pruned) {
  SearchSpace space;
  bool first = true;
  for (const auto& t : history) {
    if (!(t->state == TrialState::complete || (include_pruned && t->state == TrialState::pruned)))
      continue;
    if (first) {
      space = SearchSpace(t->distributions.begin(), t->distributions.end());
      first = false;
      continue;
    }
    for (auto it = space.begin(); it != space.end();) {
      auto found = t->distributions.find(it->first);
      if (found == t->distributions.end() || !(found->second == it->second))
        it = space.erase(it);
      else
        ++it;
    }
    if (space.empty()) break;
  }
  std::erase_if(space, [](const auto& entry) { return is_single(entry.second); });
  return space;
}

bool has_parameters_outside(std::span<const TrialPtr> history, const SearchSpace& space) {
  for (const auto& t : history) {
    if (t->state != TrialState::complete) continue;
    for (const auto& [param, d] : t->distributions)
      if (!space.contains(param) && !is_single(d)) return true;
  }
  return false;
}

void IncrementalSearchSpace::fold(const FrozenTrial& t) {
  if (t.state != TrialState::complete) return;
  for (const auto& [param, d] : t.distributions)
    if (!is_single(d)) multivalued_.insert(param);
  if (!any_complete_) {
    common_ = SearchSpace(t.distributions.begin(), t.distributions.end());
    any_complete_ = true;
    return;
  }
  std::erase_if(common_, [&](const auto& entry) {
    auto found = t.distributions.find(entry.first);
    return found == t.distributions.end() || !(found->second == entry.second);
  });
}

IncrementalSearchSpace::Result IncrementalSearchSpace::update(std::span<const TrialPtr> history) {
  std::lock_guard lock(mutex_);
  bool extends = ids_.size() <= history.size();
  for (size_t i = 0; extends && i < ids_.size(); ++i) extends = history[i]->id == ids_[i];
  if (!extends) {
    ids_.clear();
    any_complete_ = false;
    common_.clear();
    multivalued_.clear();
  }
  for (size_t i = ids_.size(); i < history.size(); ++i) {
    fold(*history[i]);
    ids_.push_back(history[i]->id);
  }
  Result result;
  for (const auto& [param, d] : common_)
    if (!is_single(d)) result.space.emplace(param, d);
  for (const auto& param : multivalued_) result.conditional |= !result.space.contains(param);
  return result;
}

std::optional<int64_t> space_size(const SearchSpace& space, int64_t limit) {
  int64_t size = 1;
  for (const auto& [param, d] : space) {
    auto n = cardinality(d);
    if (!n || *n > limit / size) return std::nullopt;
    size *= *n;
  }
  return size;
}

}  // namespace nabla::hpo
