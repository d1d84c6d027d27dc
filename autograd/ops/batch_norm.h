// Batch normalization in training mode as one differentiable op.
#pragma once

#include "core/backend.h"

namespace nabla {

struct BatchNormResult {
  Tensor output;     // x's shape
  Tensor mean, var;  // [C]: the batch's mean and biased variance, without gradient
};

// y = (x - mean) / sqrt(var + eps) * weight + bias over the dims {0, 2, 3, ...} of x [N, C, ...],
// with the batch's own statistics. weight and bias ([C]) may be undefined (no affine part). The
// epilogue then adds its residual (which takes a gradient) and applies its ReLU in the same pass:
// a residual block's bn -> add -> relu.
BatchNormResult batch_norm_training(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                    double eps, const BatchNormEpilogue& epilogue = {});

}  // namespace nabla
