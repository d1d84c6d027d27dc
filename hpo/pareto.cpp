// Dominance, non-dominated sorting, crowding distance and hypervolume.
#include "hpo/pareto.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

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

std::vector<double> crowding_distance(const std::vector<std::vector<double>>& front) {
  const size_t n = front.size();
  std::vector<double> distance(n, 0.0);
  if (n == 0) return distance;
  std::vector<size_t> order(n);
  for (size_t m = 0; m < front[0].size(); ++m) {
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return front[a][m] < front[b][m]; });
    const double range = front[order.back()][m] - front[order.front()][m];
    if (range == 0) continue;
    distance[order.front()] = distance[order.back()] = std::numeric_limits<double>::infinity();
    if (!std::isfinite(range)) continue;
    for (size_t k = 1; k + 1 < n; ++k)
      distance[order[k]] += (front[order[k + 1]][m] - front[order[k - 1]][m]) / range;
  }
  return distance;
}

namespace {

// All objectives minimized; every point strictly below the reference in each of them.
double hypervolume_minimized(std::vector<std::vector<double>> points,
                             const std::vector<double>& reference) {
  if (points.empty()) return 0;
  const size_t d = reference.size();
  if (d == 1) {
    double best = reference[0];
    for (const auto& p : points) best = std::min(best, p[0]);
    return reference[0] - best;
  }
  std::sort(points.begin(), points.end(),
            [d](const auto& a, const auto& b) { return a[d - 1] < b[d - 1]; });
  const std::vector<double> lower_reference(reference.begin(), reference.end() - 1);
  std::vector<std::vector<double>> slice;
  double volume = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    slice.emplace_back(points[i].begin(), points[i].end() - 1);
    const double top = i + 1 < points.size() ? points[i + 1][d - 1] : reference[d - 1];
    const double height = top - points[i][d - 1];
    if (height > 0) volume += height * hypervolume_minimized(slice, lower_reference);
  }
  return volume;
}

}  // namespace

double hypervolume(const std::vector<std::vector<double>>& points,
                   std::span<const double> reference, std::span<const Direction> directions) {
  const size_t d = directions.size();
  auto sign = [&](size_t i) { return directions[i] == Direction::minimize ? 1.0 : -1.0; };
  std::vector<double> ref(d);
  for (size_t i = 0; i < d; ++i) ref[i] = sign(i) * reference[i];
  std::vector<std::vector<double>> kept;
  for (const auto& p : points) {
    std::vector<double> q(d);
    bool inside = true;
    for (size_t i = 0; i < d; ++i) {
      q[i] = sign(i) * p[i];
      inside = inside && q[i] < ref[i];
    }
    if (inside) kept.push_back(std::move(q));
  }
  return hypervolume_minimized(std::move(kept), ref);
}

}  // namespace nabla::hpo
