// Best-first ranking by value or by Pareto fronts cut by hypervolume; reference points and
// hypervolume contributions.
#include "hpo/ranking.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "hpo/pareto.h"

namespace nabla::hpo {

namespace {

double signed_value(double v, Direction d) { return d == Direction::minimize ? v : -v; }

void check_sizes(const std::vector<std::vector<double>>& points,
                 std::span<const Direction> directions, const char* what) {
  for (size_t i = 0; i < points.size(); ++i)
    NABLA_CHECK(points[i].size() == directions.size(), ValueError, what, ": point ", i, " has ",
                points[i].size(), " values for ", directions.size(), " objectives");
}

}  // namespace

std::vector<size_t> best_first(const std::vector<std::vector<double>>& points,
                               std::span<const Direction> directions, size_t n) {
  check_sizes(points, directions, "best_first");
  n = std::min(n, points.size());
  std::vector<size_t> order(points.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (directions.size() == 1) {
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                      [&](size_t a, size_t b) {
                        const double x = signed_value(points[a][0], directions[0]);
                        const double y = signed_value(points[b][0], directions[0]);
                        return x < y || (x == y && a < b);
                      });
    order.resize(n);
    return order;
  }

  // Lexicographic order of the minimized values: whoever dominates a point comes before it, so a
  // front is found by checking each point against the front found so far (a dominator left out of
  // the front is itself dominated by a member, which then dominates the point too).
  std::vector<std::vector<double>> minimized(points.size());
  for (size_t i = 0; i < points.size(); ++i)
    for (size_t j = 0; j < directions.size(); ++j)
      minimized[i].push_back(signed_value(points[i][j], directions[j]));
  const std::vector<Direction> all_minimized(directions.size(), Direction::minimize);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return minimized[a] < minimized[b]; });

  std::vector<size_t> out;
  std::vector<double> reference;
  while (out.size() < n) {
    std::vector<size_t> front, rest;
    for (size_t i : order) {
      bool dominated = false;
      for (size_t j : front)
        if (dominates(minimized[j], minimized[i], all_minimized)) {
          dominated = true;
          break;
        }
      (dominated ? rest : front).push_back(i);
    }
    std::sort(front.begin(), front.end());
    if (out.size() + front.size() <= n) {
      out.insert(out.end(), front.begin(), front.end());
      order = std::move(rest);
      continue;
    }
    if (reference.empty()) reference = hypervolume_reference(points, directions);
    std::vector<std::vector<double>> taken;
    std::vector<bool> used(front.size(), false);
    while (out.size() < n) {
      size_t pick = 0;
      double most = -1;
      for (size_t c = 0; c < front.size(); ++c) {
        if (used[c]) continue;
        taken.push_back(points[front[c]]);
        const double volume = hypervolume(taken, reference, directions);
        taken.pop_back();
        if (volume > most) {
          most = volume;
          pick = c;
        }
      }
      used[pick] = true;
      taken.push_back(points[front[pick]]);
      out.push_back(front[pick]);
    }
  }
  return out;
}

std::vector<double> hypervolume_reference(const std::vector<std::vector<double>>& points,
                                          std::span<const Direction> directions) {
  NABLA_CHECK(!points.empty(), ValueError, "hypervolume_reference: no points");
  check_sizes(points, directions, "hypervolume_reference");
  std::vector<double> reference(directions.size());
  for (size_t j = 0; j < directions.size(); ++j) {
    double worst = -INFINITY, best = INFINITY;
    for (const auto& p : points) {
      worst = std::max(worst, signed_value(p[j], directions[j]));
      best = std::min(best, signed_value(p[j], directions[j]));
    }
    const double margin = std::max(0.1 * (worst - best), 1e-9 * std::max(1.0, std::abs(worst)));
    reference[j] = signed_value(worst + margin, directions[j]);
  }
  return reference;
}

std::vector<double> hypervolume_contributions(const std::vector<std::vector<double>>& points,
                                              std::span<const double> reference,
                                              std::span<const Direction> directions) {
  check_sizes(points, directions, "hypervolume_contributions");
  const double total = hypervolume(points, reference, directions);
  std::vector<double> contributions;
  std::vector<std::vector<double>> others;
  for (size_t i = 0; i < points.size(); ++i) {
    others.assign(points.begin(), points.end());
    others.erase(others.begin() + static_cast<std::ptrdiff_t>(i));
    contributions.push_back(std::max(0.0, total - hypervolume(others, reference, directions)));
  }
  return contributions;
}

}  // namespace nabla::hpo
