// A parameter's internal value on the unit interval and back, for the samplers that work on
// [0, 1]^n: quasi-random (Sobol) search and the Gaussian process.
#pragma once

#include "hpo/distribution.h"

namespace nabla::hpo {

// A float or int internal value on [0, 1]: linearly, or in log space for log distributions. A
// grid (int, stepped float) gets half a step of room at each end, so that each grid point owns a
// cell of the same width and a uniform u lands on every point equally often. A ValueError for a
// categorical, whose choices have no order.
double encode_unit(const Distribution& d, double internal);
// The inverse, snapped onto the grid and into the range: a value the distribution can produce. A
// categorical takes choice floor(u * choices).
double decode_unit(const Distribution& d, double u);

}  // namespace nabla::hpo
