// Differentiable matrix products.
#pragma once

#include "core/tensor.h"

namespace nabla {

// PyTorch's matmul: 1-d operands are treated as row/column vectors and their dim dropped after;
// dims before the last two are batch dims and broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);
// a ⊗ b for 1-d a [n] and b [m] -> [n, m].
Tensor outer(const Tensor& a, const Tensor& b);
// The inner product of two 1-d tensors of equal length -> 0-d.
Tensor dot(const Tensor& a, const Tensor& b);

}  // namespace nabla
