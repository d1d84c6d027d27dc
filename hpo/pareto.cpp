// Dominance and non-dominated sorting.
#include "hpo/pareto.h"

#include <algorithm>

namespace nabla::hpo {

bool dominates(std::span<const double> a, std::span<const double> b,
               std::span<const Direction> directions) {
  bool better = false;
  for (size_t i = 0; i < directions.size(); ++i) {
    const double x = directions[i] == Direction::minimize ? a[i] : -a[i];
    const double y = directions[i] == Direction::minimize ? b[i] : -b[i];
    if (x > y) return false;
    if (x < y) better = true;
  }
  return better;
}

std::vector<std::vector<size_t>> non_dominated_sort(const std::vector<std::vector<double>>& points,
                                                    std::span<const Direction> directions) {
  const size_t n = points.size();
  std::vector<std::vector<size_t>> dominated_by_me(n);
  std::vector<size_t> dominators(n, 0);
  std::vector<std::vector<size_t>> fronts(1);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (i == j) continue;
      if (dominates(points[i], points[j], directions))
        dominated_by_me[i].push_back(j);
      else if (dominates(points[j], points[i], directions))
        ++dominators[i];
    }
    if (dominators[i] == 0) fronts[0].push_back(i);
  }
  for (size_t f = 0; !fronts[f].empty(); ++f) {
    std::vector<size_t> next;
    for (size_t i : fronts[f])
      for (size_t j : dominated_by_me[i])
        if (--dominators[j] == 0) next.push_back(j);
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(next));
  }
  fronts.pop_back();
  return fronts;
}

}  // namespace nabla::hpo
