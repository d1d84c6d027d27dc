// Fronts and crowding distances: the ranking of Note [report order].
#include "hpo/pruners/ranking.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "hpo/pareto.h"

namespace nabla::hpo::ranking {

std::vector<RankKey> rank_keys(const std::vector<std::vector<double>>& points,
                               std::span<const Direction> directions) {
  std::vector<RankKey> keys(points.size());
  if (points.empty()) return keys;
  if (directions.size() == 1) {
    // One objective: the front of a value is the number of distinct better values.
    const double sign = directions[0] == Direction::minimize ? 1.0 : -1.0;
    std::vector<size_t> order(points.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return sign * points[a][0] < sign * points[b][0]; });
    int64_t front = 0;
    for (size_t i = 0; i < order.size(); ++i) {
      if (i > 0 && points[order[i]][0] != points[order[i - 1]][0]) ++front;
      keys[order[i]].front = front;
    }
    return keys;
  }
  const auto fronts = non_dominated_sort(points, directions);
  for (size_t f = 0; f < fronts.size(); ++f) {
    std::vector<std::vector<double>> members;
    for (size_t i : fronts[f]) members.push_back(points[i]);
    const auto distance = crowding_distance(members);
    for (size_t j = 0; j < fronts[f].size(); ++j)
      keys[fronts[f][j]] = {static_cast<int64_t>(f), distance[j]};
  }
  return keys;
}

std::vector<size_t> rank_order(const std::vector<std::vector<double>>& points,
                               std::span<const Direction> directions) {
  const auto keys = rank_keys(points, directions);
  std::vector<size_t> order(points.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return ranks_before(keys[a], keys[b]); });
  return order;
}

}  // namespace nabla::hpo::ranking
