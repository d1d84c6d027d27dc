// Vectors over several parameters, kept as one tensor per parameter, with the reductions and
// updates that line searches and quasi-Newton methods need. Nothing here records a graph.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace nabla::optim {

// One tensor per parameter, in a fixed order; together they are one vector.
using ParamVector = std::vector<Tensor>;

// Reductions over all the tensors, accumulated in float64.
double dot(const ParamVector& a, const ParamVector& b);
double max_abs(const ParamVector& a);  // the infinity norm
double sum_abs(const ParamVector& a);  // the 1-norm

// New tensors: a copy, alpha * a, a - b.
ParamVector clone(const ParamVector& a);
ParamVector scaled(const ParamVector& a, double alpha);
ParamVector difference(const ParamVector& a, const ParamVector& b);
// y += alpha * x, in place.
void axpy_(const ParamVector& y, double alpha, const ParamVector& x);
// y = x, in place.
void copy_(const ParamVector& y, const ParamVector& x);

// The elements of every tensor in order, as one float64 vector [n] (for dense curvature
// matrices), and back: slices of `flat` shaped, typed and placed like `like`.
Tensor flatten(const ParamVector& a);
ParamVector unflatten(const Tensor& flat, const ParamVector& like);

}  // namespace nabla::optim
