// Gradient clipping over a set of parameters, by global norm and by value.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "optim/state.h"

namespace nabla::optim {

// Scales every gradient by max_norm / (norm + 1e-6) when the global norm (the p-norm of all
// gradients together; INFINITY for the largest magnitude) is above max_norm, as PyTorch's
// clip_grad_norm_. Returns the norm before clipping. Parameters without gradient are skipped.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                      bool error_if_nonfinite = false);
double clip_grad_norm(const NamedTensors& params, double max_norm, double norm_type = 2.0,
                      bool error_if_nonfinite = false);

// Clamps every gradient element to [-clip_value, clip_value]. Returns the global L2 norm before
// clipping.
double clip_grad_value(const std::vector<Tensor>& params, double clip_value);
double clip_grad_value(const NamedTensors& params, double clip_value);

}  // namespace nabla::optim
