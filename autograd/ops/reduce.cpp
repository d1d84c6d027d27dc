// Reductions and softmax with their gradient rules.
#include "autograd/ops/reduce.h"

#include <cmath>

#include "autograd/ops/common.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/indexing.h"
#include "autograd/ops/views.h"

namespace nabla {

using autograd::BackwardContext;
using autograd::Like;
using autograd::record;
using autograd::save;
using autograd::SaveOutput;
using Grads = std::vector<Tensor>;

namespace {
// The shape of reducing `dims` of x: kept as size 1 (where a reduced gradient broadcasts from),
// or dropped.
Shape reduced_shape(const Tensor& x, const Dims& dims, bool keepdim = true) {
  if (x.dim() == 0) return {};
  std::vector<int64_t> reduced = normalize_dims(dims, x.dim(), "reduce");
  Shape shape;
  for (int64_t d = 0, k = 0; d < x.dim(); ++d) {
    bool is_reduced = k < static_cast<int64_t>(reduced.size()) && reduced[k] == d;
    k += is_reduced;
    if (!is_reduced)
      shape.push_back(x.size(d));
    else if (keepdim)
      shape.push_back(1);
  }
  return shape;
}

int64_t count_reduced(const Tensor& x, const Dims& dims) {
  int64_t n = 1;
  if (x.dim() > 0)
    for (int64_t d : normalize_dims(dims, x.dim(), "reduce")) n *= x.size(d);
  return n;
}

// The gradient of a reduction's result, broadcast back over x's shape.
Tensor spread(const Tensor& grad, const Shape& kept, const Shape& full) {
  return expand(reshape(grad, kept), full);
}

Tensor extreme(const char* name, ReduceOp op, const Tensor& x, const Dims& dims, bool keepdim) {
  Shape kept = reduced_shape(x, dims);
  return record(
      name, core::reduce(op, x, dims, keepdim), {x},
      [sx = save(x), kept](const BackwardContext& c) -> Grads {
        // Every position that attains the extreme shares the gradient.
        Tensor x = sx.get();
        Tensor hit =
            core::to(core::binary(BinaryOp::eq, x, core::reshape(c.output(), kept)), x.dtype());
        Tensor count = sum_to(hit, kept);
        return {mul(spread(c.grad, kept, x.shape()), core::binary(BinaryOp::div, hit, count))};
      },
      SaveOutput::yes);
}

std::pair<Tensor, Tensor> extreme_along(ArgReduceOp op, const Tensor& x, int64_t dim,
                                        bool keepdim) {
  Tensor index = core::arg_reduce(op, x, dim, true);
  Tensor values = gather(x, dim, index);
  if (keepdim) return {values, index};
  return {squeeze(values, dim), core::squeeze(index, wrap_dim(dim, x.dim(), "max"))};
}
}  // namespace

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) {
  Shape kept = reduced_shape(x, dims);
  return record("sum", core::reduce(ReduceOp::sum, x, dims, keepdim), {x},
                [kept, shape = x.shape()](const BackwardContext& c) -> Grads {
                  return {spread(c.grad, kept, shape)};
                });
}

Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {
  NABLA_CHECK(is_floating(x.dtype()), DTypeError, "mean: needs a floating dtype, got ", x.dtype());
  return div(sum(x, dims, keepdim), static_cast<double>(count_reduced(x, dims)));
}

Tensor amax(const Tensor& x, const Dims& dims, bool keepdim) {
  return extreme("amax", ReduceOp::max, x, dims, keepdim);
}
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim) {
  return extreme("amin", ReduceOp::min, x, dims, keepdim);
}

std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_along(ArgReduceOp::argmax, x, dim, keepdim);
}
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_along(ArgReduceOp::argmin, x, dim, keepdim);
}

Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return core::arg_reduce(ArgReduceOp::argmax, x, dim, keepdim);
}
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  return core::arg_reduce(ArgReduceOp::argmin, x, dim, keepdim);
}

Tensor var(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  int64_t n = count_reduced(x, dims);
  NABLA_CHECK(n - correction > 0, ValueError, "var: ", n, " elements with correction ", correction,
              " leave no degrees of freedom");
  Tensor centered = sub(x, mean(x, dims, true));
  return div(sum(mul(centered, centered), dims, keepdim), static_cast<double>(n - correction));
}

Tensor stddev(const Tensor& x, const Dims& dims, int64_t correction, bool keepdim) {
  return sqrt(var(x, dims, correction, keepdim));
}

Tensor norm(const Tensor& x, double p, const Dims& dims, bool keepdim) {
  NABLA_CHECK(p > 0, ValueError, "norm: p must be positive, got ", p);
  if (std::isinf(p)) return amax(abs(x), dims, keepdim);
  Shape kept = reduced_shape(x, dims);
  Tensor magnitude = core::unary(UnaryOp::abs, x);
  Tensor powered = p == 1 ? magnitude : core::unary(UnaryOp::pow_scalar, magnitude, p);
  Tensor summed = core::reduce(ReduceOp::sum, powered, dims, keepdim);
  Tensor out = p == 1 ? summed : core::unary(UnaryOp::pow_scalar, summed, 1.0 / p);
  // d|x|_p / dx = x |x|^(p-2) / |x|_p^(p-1), taken as 0 where the norm is 0.
  return record(
      "norm", out, {x},
      [sx = save(x), kept, p](const BackwardContext& c) -> Grads {
        Tensor x = sx.get();
        Tensor n = reshape(c.output(), kept);
        Tensor g = reshape(c.grad, kept);
        Tensor direction = p == 1 ? sign(x) : p == 2 ? x : mul(x, pow(abs(x), p - 2));
        Tensor scale = p == 2 ? n : pow(n, p - 1);
        Tensor safe = where(core::binary(BinaryOp::eq, n, 0.0), 1.0, scale);
        return {mul(direction, div(where(core::binary(BinaryOp::eq, n, 0.0), 0.0, g), safe))};
      },
      SaveOutput::yes);
}

Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim) {
  // Shifting by the (constant) maximum avoids overflow and leaves the value and gradient alone.
  Tensor shift = core::reduce(ReduceOp::max, x, dims, true);
  shift = core::where(
      core::unary(UnaryOp::logical_not,
                  core::binary(BinaryOp::eq, core::unary(UnaryOp::abs, shift), INFINITY)),
      shift, scalar_tensor(0, {.dtype = shift.dtype(), .device = shift.device()}));
  Tensor out = add(log(sum(exp(sub(x, shift)), dims, true)), shift);
  return keepdim ? out : reshape(out, reduced_shape(x, dims, false));
}

Tensor softmax(const Tensor& x, int64_t dim) {
  return record(
      "softmax", core::softmax(x, dim, false), {x},
      [dim](const BackwardContext& c) -> Grads {
        Tensor y = c.output();
        return {mul(y, sub(c.grad, sum(mul(c.grad, y), {dim}, true)))};
      },
      SaveOutput::yes);
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  return record(
      "log_softmax", core::softmax(x, dim, true), {x},
      [dim](const BackwardContext& c) -> Grads {
        return {sub(c.grad, mul(exp(c.output()), sum(c.grad, {dim}, true)))};
      },
      SaveOutput::yes);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  NABLA_CHECK(lead >= 0, ShapeError, "sum_to: cannot sum ", x.shape(), " down to ", shape);
  Dims dims;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && x.size(d) != 1)) dims.push_back(d);
  if (dims.empty()) return reshape(x, shape);
  return reshape(sum(x, dims, true), shape);
}

}  // namespace nabla
