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
