// Differentiable indexing with int64 indices, and masks.
#pragma once

#include "core/tensor.h"

namespace nabla {

// out[i][j] = x[i][index[i][j]] for dim 1 (and likewise for any dim).
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// A copy of self with src[i][j] added at self[i][index[i][j]] for dim 1; index and src share a
// shape.
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
// The slices of x at the positions listed in the 1-d index, along dim.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// A copy of self with slice i of src added at slice index[i] along dim.
Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
// int64 one-hot rows: [..., num_classes] for labels in [0, num_classes).
Tensor one_hot(const Tensor& labels, int64_t num_classes);
// x with `value` wherever the bool mask (broadcast to x) is true.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

}  // namespace nabla
