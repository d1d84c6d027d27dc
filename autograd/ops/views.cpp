// Views and copies with their gradient rules. A view's gradient is the inverse reshaping of the
// incoming gradient; slicing ops scatter it back into zeros (autograd::embed_into_zeros).
#include "autograd/ops/views.h"

#include <numeric>

#include "autograd/ops/common.h"
#include "autograd/ops/reduce.h"

namespace nabla {

using autograd::BackwardContext;
using autograd::Like;
using autograd::record;
using Grads = std::vector<Tensor>;

namespace {
Tensor reshape_rule(const char* name, Tensor out, const Tensor& x) {
  return record(name, std::move(out), {x}, [shape = x.shape()](const BackwardContext& c) -> Grads {
    return {reshape(c.grad, shape)};
  });
}
}  // namespace

Tensor view(const Tensor& x, const Shape& shape) {
  return reshape_rule("view", core::view(x, shape), x);
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  return reshape_rule("reshape", core::reshape(x, shape), x);
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  start_dim = wrap_dim(start_dim, x.dim(), "flatten");
  end_dim = wrap_dim(end_dim, x.dim(), "flatten");
  NABLA_CHECK(start_dim <= end_dim, IndexError, "flatten: start_dim ", start_dim,
              " comes after end_dim ", end_dim);
  Shape shape(x.shape().begin(), x.shape().begin() + start_dim);
  shape.push_back(-1);
  shape.insert(shape.end(), x.shape().begin() + end_dim + 1, x.shape().end());
  if (x.numel() == 0) shape[start_dim] = 0;
  return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, std::optional<int64_t> dim) {
  return reshape_rule("squeeze", core::squeeze(x, dim), x);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  return reshape_rule("unsqueeze", core::unsqueeze(x, dim), x);
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  return record(
      "transpose", core::transpose(x, dim0, dim1), {x},
      [dim0, dim1](const BackwardContext& c) -> Grads { return {transpose(c.grad, dim0, dim1)}; });
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  Tensor out = core::permute(x, dims);
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inverse[wrap_dim(dims[i], x.dim(), "permute")] = i;
  return record("permute", out, {x}, [inverse](const BackwardContext& c) -> Grads {
    return {permute(c.grad, inverse)};
  });
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  return record("slice", core::slice(x, dim, start, end, step), {x},
                [like = Like(x), dim, start, end, step](const BackwardContext& c) -> Grads {
                  return {autograd::embed_into_zeros(
                      "slice_backward", c.grad, like,
                      [=](const Tensor& t) { return slice(t, dim, start, end, step); })};
                });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  int64_t size = x.size(dim);
  if (start < 0) start += size;
  NABLA_CHECK(start >= 0 && length >= 0 && start + length <= size, IndexError, "narrow: [", start,
              ", ", start + length, ") is out of range for dim ", dim, " of size ", size);
  return slice(x, dim, start, start + length);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  return record(
      "select", core::select(x, dim, index), {x},
      [like = Like(x), dim, index](const BackwardContext& c) -> Grads {
        return {autograd::embed_into_zeros("select_backward", c.grad, like,
                                           [=](const Tensor& t) { return select(t, dim, index); })};
      });
}

Tensor expand(const Tensor& x, const Shape& shape) {
  return record(
      "expand", core::expand(x, shape), {x},
      [in = x.shape()](const BackwardContext& c) -> Grads { return {sum_to(c.grad, in)}; });
}

Tensor expand_as(const Tensor& x, const Tensor& other) { return expand(x, other.shape()); }

Tensor contiguous(const Tensor& x) {
  return record("contiguous", core::contiguous(x), {x},
                [](const BackwardContext& c) -> Grads { return {c.grad}; });
}

Tensor clone(const Tensor& x) {
  return record("clone", core::clone(x), {x},
                [](const BackwardContext& c) -> Grads { return {c.grad}; });
}

Tensor to(const Tensor& x, DType dtype) {
  return record(
      "to", core::to(x, dtype), {x},
      [from = x.dtype()](const BackwardContext& c) -> Grads { return {to(c.grad, from)}; });
}

Tensor to(const Tensor& x, Device device) {
  return record(
      "to", core::to(x, device), {x},
      [from = x.device()](const BackwardContext& c) -> Grads { return {to(c.grad, from)}; });
}

Tensor detach(const Tensor& x) { return core::alias(x); }

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  Tensor out = core::cat(tensors, dim);
  dim = wrap_dim(dim, out.dim(), "cat");
  std::vector<int64_t> sizes;
  std::vector<DType> dtypes;
  for (const Tensor& t : tensors) {
    sizes.push_back(t.size(dim));
    dtypes.push_back(t.dtype());
  }
  return record("cat", out, tensors, [dim, sizes, dtypes](const BackwardContext& c) -> Grads {
    Grads grads;
    for (size_t i = 0, at = 0; i < sizes.size(); at += sizes[i], ++i)
      grads.push_back(c.needs(i) ? to(narrow(c.grad, dim, at, sizes[i]), dtypes[i]) : Tensor());
    return grads;
  });
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  NABLA_CHECK(!tensors.empty(), ValueError, "stack: needs at least one tensor");
  dim = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> expanded;
  for (size_t i = 0; i < tensors.size(); ++i) {
    NABLA_CHECK(tensors[i].shape() == tensors[0].shape(), ShapeError, "stack: tensor ", i,
                " has shape ", tensors[i].shape(), " but tensor 0 has shape ", tensors[0].shape());
    expanded.push_back(unsqueeze(tensors[i], dim));
  }
  return cat(expanded, dim);
}

std::vector<Tensor> split(const Tensor& x, int64_t size, int64_t dim) {
  NABLA_CHECK(size > 0, ValueError, "split: piece size must be positive, got ", size);
  std::vector<Tensor> pieces;
  const int64_t total = x.size(dim);
  for (int64_t at = 0; at < total; at += size)
    pieces.push_back(narrow(x, dim, at, std::min(size, total - at)));
  return pieces;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  NABLA_CHECK(chunks > 0, ValueError, "chunk: needs a positive count, got ", chunks);
  const int64_t total = x.size(dim);
  return split(x, std::max<int64_t>((total + chunks - 1) / chunks, 1), dim);
}

}  // namespace nabla
