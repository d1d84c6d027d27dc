// Untracked tensor ops: argument checks, broadcasting, dtype promotion and output allocation in
// front of the device's Backend. autograd/ops wraps these with gradients; use those instead unless
// you are writing a kernel-level routine (an optimizer update, a backend test).
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "core/backend.h"
#include "core/creation.h"

namespace nabla::core {

// ---- Views: share storage, no copy ----
Tensor as_strided(const Tensor& x, const Shape& shape, const Strides& strides, int64_t offset);
// A new handle to the same data without autograd state (detach).
Tensor alias(const Tensor& x);
// `shape` may hold one -1, inferred from the element count.
Tensor view(const Tensor& x, const Shape& shape);
// A view when the strides allow one, else a contiguous copy.
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
// Elements start, start + step, ... below end along `dim`; start and end clamp like Python slices.
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
// Size-1 dims stretch to `shape` (stride 0); -1 keeps a size; new dims may be added in front.
Tensor expand(const Tensor& x, const Shape& shape);
Tensor squeeze(const Tensor& x, std::optional<int64_t> dim = std::nullopt);
Tensor unsqueeze(const Tensor& x, int64_t dim);
// The shape `x` would infer for `shape` in view/reshape, with the -1 resolved.
Shape infer_shape(const Tensor& x, const Shape& shape, const char* op);

// Makes `t` hold `source`'s data, dtype and layout in place, so that every handle to t sees it:
// how a module moves its parameters to another device or dtype.
void set_data(const Tensor& t, const Tensor& source);

// ---- Copies ----
Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);
// dst = src, src broadcast to dst's shape, converting dtype and device.
void copy_(const Tensor& dst, const Tensor& src);
Tensor to(const Tensor& x, DType dtype);
Tensor to(const Tensor& x, Device device);
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);
void fill_(const Tensor& x, double value);
void random_(const Tensor& x, RandomKind kind, double a, double b);

// ---- Elementwise, with NumPy broadcasting and PyTorch's dtype promotion ----
Tensor unary(UnaryOp op, const Tensor& x, double alpha = 0, double beta = 0);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
Tensor binary(BinaryOp op, const Tensor& a, double b);
Tensor binary(BinaryOp op, double a, const Tensor& b);
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
// In place: self = op(self), self = self op other (other broadcast to self's shape).
void unary_(UnaryOp op, const Tensor& self, double alpha = 0, double beta = 0);
void binary_(BinaryOp op, const Tensor& self, const Tensor& other);
void binary_(BinaryOp op, const Tensor& self, double other);
const char* name(UnaryOp op);
const char* name(BinaryOp op);

// ---- Reductions; an empty dim list reduces everything ----
Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
// Over one dim, or over the flattened tensor when dim is empty.
Tensor arg_reduce(ArgReduceOp op, const Tensor& x, std::optional<int64_t> dim, bool keepdim);
Tensor softmax(const Tensor& x, int64_t dim, bool log);

// ---- Linear algebra: 1-d, 2-d and batched operands with broadcast batch dims ----
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- Decompositions (CPU, through LAPACK) ----
// The eigenvalues, ascending, and eigenvectors (column j for eigenvalue j) of a symmetric matrix
// [n, n], float32 or float64; only one triangle is read. Not differentiable.
std::pair<Tensor, Tensor> eigh(const Tensor& a);

// ---- Convolution and pooling, NCHW ----
Shape conv2d_output_shape(const Shape& input, const Shape& weight, const Conv2dParams& p);
// bias: [O] or undefined.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Conv2dParams& p,
              const Tensor& bias = Tensor());
Tensor conv2d_backward_data(const Tensor& grad_out, const Tensor& weight, const Shape& input_shape,
                            const Conv2dParams& p);
Tensor conv2d_backward_weight(const Tensor& input, const Tensor& grad_out,
                              const Shape& weight_shape, const Conv2dParams& p);
Shape pool2d_output_shape(const Shape& input, const Pool2dParams& p, const char* op);
// Returns the maxima and, for each, its flat index in the input's H*W plane.
std::pair<Tensor, Tensor> max_pool2d(const Tensor& x, const Pool2dParams& p);
// The gradient of max_pool2d: each grad_out element goes to (and adds into) the input position
// its index names.
Tensor max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Shape& input_shape);
Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p);
Tensor avg_pool2d_backward(const Tensor& grad_out, const Shape& input_shape, const Pool2dParams& p);

// ---- Batch normalization's passes over x: [N, C, *], per channel; statistics are [C] ----
// The mean and the biased variance.
std::pair<Tensor, Tensor> batch_norm_stats(const Tensor& x);
// The sums of grad_out and of grad_out * (x - mean).
std::pair<Tensor, Tensor> batch_norm_backward_reduce(const Tensor& grad_out, const Tensor& x,
                                                     const Tensor& mean);
// x * x_scale[c] + shift[c], plus g * g_scale[c] when g is defined, then the epilogue: its
// residual (x's shape) added, then its ReLU.
Tensor batch_norm_apply(const Tensor& x, const Tensor& x_scale, const Tensor& shift,
                        const Tensor& g = Tensor(), const Tensor& g_scale = Tensor(),
                        const BatchNormEpilogue& epilogue = {});

// ---- Indexing with int64 indices (checked against the indexed size) ----
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// A copy of `self` with src added at the positions `index` names along `dim`.
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);

}  // namespace nabla::core
