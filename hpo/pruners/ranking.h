// The one order in which the pruners and schedulers rank reports, for one objective or several:
// by Pareto front, then by crowding distance within a front.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "hpo/frozen_trial.h"

// Private to hpo's pruners and schedulers, hence its own namespace.
namespace nabla::hpo::ranking {

// Note [report order]: reports (one value per objective) are ranked by their non-dominated front
// (non_dominated_sort in pareto.h; front 0 is the Pareto front), and within a front by crowding
// distance, larger first (crowding_distance in pareto.h; Deb et al. 2002, Sec. III-B: the isolated
// points keep the front's spread). For one objective a front is a set of equal values, its crowding
// distance is 0, and the order is the plain order of the values in the study's direction. Points
// equal in both keys tie: callers break the tie by trial number, or count only the points strictly
// ahead. Reports holding a NaN have no place in this order; callers leave them out.
struct RankKey {
  int64_t front = 0;
  double crowding = 0;
};

inline bool ranks_before(const RankKey& a, const RankKey& b) {
  return a.front < b.front || (a.front == b.front && a.crowding > b.crowding);
}

// Every point's key (Note [report order]); O(n log n) for one objective, O(n^2) for several.
std::vector<RankKey> rank_keys(const std::vector<std::vector<double>>& points,
                               std::span<const Direction> directions);

// Indices of `points` best first; ties in index order.
std::vector<size_t> rank_order(const std::vector<std::vector<double>>& points,
                               std::span<const Direction> directions);

}  // namespace nabla::hpo::ranking
