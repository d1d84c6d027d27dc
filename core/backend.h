// The Backend interface: the small, fixed set of primitives a device implements. Everything else
// in nabla is composed from these. core/ops.cpp checks arguments and allocates outputs, so a
// backend receives well-formed tensors of its own device.
#pragma once

#include <cstdint>
#include <vector>

#include "core/allocator.h"
#include "core/tensor.h"

namespace nabla {

enum class UnaryOp : uint8_t {
  neg,
  abs,
  sign,
  exp,
  log,
  sqrt,
  rsqrt,
  sin,
  cos,
  tanh,
  sigmoid,
  relu,
  erf,
  log1p,
  expm1,
  reciprocal,
  floor,
  ceil,
  round,
  logical_not,
  pow_scalar,  // x ^ alpha
  clamp,       // min(max(x, alpha), beta)
  gelu,        // x Phi(x), Phi the standard normal CDF
};

enum class BinaryOp : uint8_t {
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,  // produce bool
  logical_and,
  logical_or,
  gelu_backward,  // b * GELU'(a): the gradient b of GELU at a
  relu_backward,  // a > 0 ? b : 0: the gradient b of ReLU, given its output a
};

enum class ReduceOp : uint8_t { sum, max, min };
enum class ArgReduceOp : uint8_t { argmax, argmin };
enum class RandomKind : uint8_t {
  uniform,    // [a, b)
  normal,     // mean a, standard deviation b
  integer,    // integers in [a, b)
  bernoulli,  // 1 with probability a
};

struct Conv2dParams {
  int64_t stride[2] = {1, 1};
  int64_t padding[2] = {0, 0};
  int64_t dilation[2] = {1, 1};
  int64_t groups = 1;
};

struct Pool2dParams {
  int64_t kernel[2] = {1, 1};
  int64_t stride[2] = {1, 1};
  int64_t padding[2] = {0, 0};
  int64_t dilation[2] = {1, 1};
  bool ceil_mode = false;
  bool count_include_pad = true;  // avg: padded zeros count towards the divisor
};

// What batch_norm_apply adds after its affine map, in a residual block's order: a residual
// tensor of x's shape, then a ReLU. One pass instead of three (cuDNN offers the same fusion).
struct BatchNormEpilogue {
  Tensor residual = Tensor();
  bool relu = false;
};

// Comparisons and logical ops give bool tensors.
bool has_bool_result(BinaryOp op);

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Allocator& allocator() = 0;

  // dst = src over equal shapes, any strides, converting dtype. For a non-CPU backend, one of the
  // two may live on the CPU: that is how tensors move between devices.
  virtual void copy(const Tensor& src, const Tensor& dst) = 0;
  virtual void fill(const Tensor& dst, double value) = 0;
  // Element i draws from Philox counter (offset + i, seed): the same numbers on every device.
  virtual void random(const Tensor& dst, RandomKind kind, double a, double b, uint64_t seed,
                      uint64_t offset) = 0;

  // Elementwise. Inputs arrive expanded to out's shape (stride 0 where broadcast) and in one
  // dtype; out is bool for comparisons and logical ops. out may be one of the inputs (in place).
  virtual void unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha, double beta) = 0;
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  virtual void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) = 0;

  // Reductions: out has x's shape with `dims` (sorted, unique) set to 1.
  virtual void reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims,
                      const Tensor& out) = 0;
  // out: int64, x's shape with `dim` set to 1; ties go to the first index.
  virtual void arg_reduce(ArgReduceOp op, const Tensor& x, int64_t dim, const Tensor& out) = 0;
  virtual void softmax(const Tensor& x, int64_t dim, bool log, const Tensor& out) = 0;

  // out[i] = a[i] @ b[i] for a: [B, M, K], b: [B, K, N], out: [B, M, N] contiguous.
  virtual void matmul(const Tensor& a, const Tensor& b, const Tensor& out) = 0;

  // input: [N, C, H, W], weight: [O, C / groups, KH, KW], out: [N, O, OH, OW]; all contiguous.
  // bias: [O] or undefined; added to each output channel.
  virtual void conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
                      const Conv2dParams& p, const Tensor& out) = 0;
  virtual void conv2d_backward_data(const Tensor& grad_out, const Tensor& weight,
                                    const Conv2dParams& p, const Tensor& grad_input) = 0;
  virtual void conv2d_backward_weight(const Tensor& input, const Tensor& grad_out,
                                      const Conv2dParams& p, const Tensor& grad_weight) = 0;

  // x: [N, C, H, W] contiguous. indices: int64, the flat position in the H*W plane of each max.
  virtual void max_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out,
                          const Tensor& indices) = 0;
  // grad_input: [N, C, H, W] contiguous, set to zero, then each grad_out element added at its
  // index in its plane; grad_out and indices: [N, C, OH, OW] contiguous. An index outside the
  // plane throws IndexError, with grad_input left unspecified.
  virtual void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                                   const Tensor& grad_input) = 0;
  virtual void avg_pool2d(const Tensor& x, const Pool2dParams& p, const Tensor& out) = 0;
  virtual void avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p,
                                   const Tensor& grad_input) = 0;

  // Batch normalization's passes over x: [N, C, *] (floating, contiguous), per channel c, with
  // [C] statistics in x's dtype. mean and the biased var of x, accumulated in double for floats:
  virtual void batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var) = 0;
  // sum_g = sum of grad_out, sum_gx = sum of grad_out * (x - mean):
  virtual void batch_norm_backward_reduce(const Tensor& grad_out, const Tensor& x,
                                          const Tensor& mean, const Tensor& sum_g,
                                          const Tensor& sum_gx) = 0;
  // out = x * x_scale[c] + shift[c], plus g * g_scale[c] when g is defined (the input gradient),
  // then the epilogue (its residual contiguous, in x's dtype):
  virtual void batch_norm_apply(const Tensor& x, const Tensor& x_scale, const Tensor& shift,
                                const Tensor& g, const Tensor& g_scale,
                                const BatchNormEpilogue& epilogue, const Tensor& out) = 0;

  // Indexing with int64 indices, already bounds-checked. out/x may have any strides.
  virtual void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) = 0;
  virtual void scatter_add(const Tensor& out, int64_t dim, const Tensor& index,
                           const Tensor& src) = 0;
  virtual void index_select(const Tensor& x, int64_t dim, const Tensor& index,
                            const Tensor& out) = 0;
  virtual void index_add(const Tensor& out, int64_t dim, const Tensor& index,
                         const Tensor& src) = 0;
};

// The backend for `device`; a DeviceError when none is registered (a build without CUDA, say).
Backend& backend(Device device);
// Called once by a device's initializer (the CPU backend registers itself on first use).
void register_backend(DeviceType type, Backend* backend);

}  // namespace nabla
