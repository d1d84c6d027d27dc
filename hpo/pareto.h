// Pareto dominance for several objectives: who beats whom, and the fronts of a set of points.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "hpo/frozen_trial.h"

namespace nabla::hpo {

// a dominates b: no worse in every objective and better in one.
bool dominates(std::span<const double> a, std::span<const double> b,
               std::span<const Direction> directions);

// Fast non-dominated sort (Deb et al. 2002): fronts[0] is the Pareto front, as indices into
// `points`, each front in increasing index order.
std::vector<std::vector<size_t>> non_dominated_sort(const std::vector<std::vector<double>>& points,
                                                    std::span<const Direction> directions);

// Crowding distance (Deb et al. 2002, section III-B) of the points of one front: per objective,
// the gap between a point's two neighbours in that objective's order, over the front's range in
// it, summed over objectives. The first and last point of each order get infinity, so a front's
// extremes always survive. An objective on which the whole front agrees separates nobody and adds
// nothing, to its extremes either; one with an infinite range adds only its extremes. Directions
// play no part.
std::vector<double> crowding_distance(const std::vector<std::vector<double>>& front);

// The volume dominated by `points` and bounded by `reference` (Lebesgue measure), in the
// objectives' own directions: for a maximized objective the reference lies below the points.
// Points that do not dominate the reference add nothing. Slicing by the last objective (HSO):
// exact, and fast for the two or three objectives of a study.
double hypervolume(const std::vector<std::vector<double>>& points,
                   std::span<const double> reference, std::span<const Direction> directions);

}  // namespace nabla::hpo
