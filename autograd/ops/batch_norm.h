// Batch normalization in training mode as one differentiable op.
#pragma once

#include "core/tensor.h"

namespace nabla {

struct BatchNormResult {
  Tensor output;     // x's shape
  Tensor mean, var;  // [C]: the batch's mean and biased variance, without gradient
};

// y = (x - mean) / sqrt(var + eps) * weight + bias over the dims {0, 2, 3, ...} of x [N, C, ...],
// with the batch's own statistics. weight and bias ([C]) may be undefined (no affine part).
BatchNormResult batch_norm_training(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                    double eps);

}  // namespace nabla
