// Objective values best first, for one objective or several, and the hypervolume bookkeeping
// that goes with several: what TPE's good/bad split, MOTPE's weights and enqueue_best rank by.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "hpo/frozen_trial.h"

namespace nabla::hpo {

// Note [ranking several objectives]: points are taken front by front (non-dominated sorting, Deb
// et al. 2002), whole fronts in index order. The front that does not fit whole into the n asked
// for is cut greedily by hypervolume (Ozaki et al. 2022, Sec. 3.2: the greedy answer to the
// hypervolume subset selection problem): each next point is the one that adds the most volume to
// the points of that front already taken, measured against hypervolume_reference of all the
// points. Earlier fronts are left out of that measure, since they dominate the front and would
// leave every point of it adding nothing.

// The indices of the n best of `points` (all of them if fewer), best first: for one objective by
// value, ties by index; for several, as Note [ranking several objectives] says. Only the fronts
// needed are peeled, so the cost grows with n times the number of points, not its square.
std::vector<size_t> best_first(const std::vector<std::vector<double>>& points,
                               std::span<const Direction> directions, size_t n);

// A reference point beyond every one of `points` (not empty): per objective the worst value,
// moved away from the best by a tenth of their spread (a hair when they agree), so that the
// worst points still add volume.
std::vector<double> hypervolume_reference(const std::vector<std::vector<double>>& points,
                                          std::span<const Direction> directions);

// What each point adds to the hypervolume of them all: 0 for a dominated or repeated point.
std::vector<double> hypervolume_contributions(const std::vector<std::vector<double>>& points,
                                              std::span<const double> reference,
                                              std::span<const Direction> directions);

}  // namespace nabla::hpo
