// Differentiable views and copies: reshaping, transposing, slicing, broadcasting, joining and
// splitting, dtype and device conversion.
#pragma once

#include <optional>
#include <vector>

#include "core/tensor.h"

namespace nabla {

// `shape` may hold one -1. view needs compatible strides; reshape copies when it must.
Tensor view(const Tensor& x, const Shape& shape);
Tensor reshape(const Tensor& x, const Shape& shape);
// Merges dims start..end (inclusive) into one.
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor transpose(const Tensor& x, int64_t dim0 = -2, int64_t dim1 = -1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
// Python's x[..., start:end:step, ...] along `dim`.
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
// x[..., index, ...]: drops `dim`.
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor expand_as(const Tensor& x, const Tensor& other);
// Drops every size-1 dim, or only `dim` if it has size 1.
Tensor squeeze(const Tensor& x, std::optional<int64_t> dim = std::nullopt);
Tensor unsqueeze(const Tensor& x, int64_t dim);

Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);
Tensor to(const Tensor& x, DType dtype);
Tensor to(const Tensor& x, Device device);
// The same data, cut from the graph: a leaf that needs no gradient.
Tensor detach(const Tensor& x);

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Pieces of `size` along dim (the last may be smaller), or `chunks` nearly equal pieces.
std::vector<Tensor> split(const Tensor& x, int64_t size, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);

}  // namespace nabla
