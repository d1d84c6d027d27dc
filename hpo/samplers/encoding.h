// Parameters on the unit interval, and a fingerprint of a search space: what the samplers that
// work on [0, 1]^n share (CMA-ES, the genetic algorithm, NSGA-II, Sobol, the Gaussian process).
#pragma once

#include <optional>
#include <string>

#include "hpo/distribution.h"
#include "hpo/search_space.h"

namespace nabla::hpo {

// Float and int distributions (categoricals are not numeric).
bool is_numeric(const Distribution& d);
// The grid spacing of an int or stepped float distribution; nothing for a continuous float.
std::optional<double> grid_step(const Distribution& d);

// An internal value mapped onto [0, 1], linearly or, for log distributions, in log space. A grid
// gets half a step of room at each end, so that every grid point owns a cell of the same width
// (in the mapped scale) and rounding a uniform point gives every grid point its share.
double to_unit(const Distribution& d, double internal);
// The inverse of to_unit, not snapped onto the grid or into the range.
double from_unit(const Distribution& d, double unit);
// A value the distribution can produce from u in [0, 1] (clamped): from_unit snapped onto the grid
// and into the range; for a categorical, choice floor(u * choices).
double decode_unit(const Distribution& d, double u);

// A hash of the space's parameter names and distributions, as 16 hex digits: samplers tag the
// trials they propose with it, so that a changed space starts their bookkeeping afresh.
std::string space_fingerprint(const SearchSpace& space);

}  // namespace nabla::hpo
