// Reductions, arg-reductions and softmax.
#include "core/checks.h"
#include "core/ops.h"

namespace nabla::core {

namespace {
const char* name(ReduceOp op) {
  return op == ReduceOp::sum ? "sum" : (op == ReduceOp::max ? "max" : "min");
}

Shape kept_shape(const Shape& shape, const std::vector<int64_t>& dims) {
  Shape out = shape;
  for (int64_t d : dims) out[d] = 1;
  return out;
}

Shape dropped_shape(const Shape& shape, const std::vector<int64_t>& dims) {
  Shape out;
  for (int64_t d = 0, k = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (k < static_cast<int64_t>(dims.size()) && dims[k] == d) {
      ++k;
      continue;
    }
    out.push_back(shape[d]);
  }
  return out;
}
}  // namespace

Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check_defined(x, name(op));
  NABLA_CHECK(!(is_half(x.dtype()) && x.device().is_cpu()), DTypeError, name(op), ": ", x.dtype(),
              " tensors are a storage format on the CPU; convert with to(kFloat32)");
  DType dtype = op == ReduceOp::sum && !is_floating(x.dtype()) ? kInt64 : x.dtype();
  if (x.dim() == 0) return to(clone(x), dtype);
  std::vector<int64_t> reduced = normalize_dims(dims, x.dim(), name(op));
  for (int64_t d : reduced)
    NABLA_CHECK(op == ReduceOp::sum || x.size(d) > 0, ValueError, name(op),
                ": cannot reduce over dim ", d, " of size 0 (shape ", x.shape(),
                "): the result has no identity");
  Tensor out = empty(kept_shape(x.shape(), reduced), {.dtype = dtype, .device = x.device()});
  backend(x.device()).reduce(op, x, reduced, out);
  return keepdim ? out : view(out, dropped_shape(x.shape(), reduced));
}

Tensor arg_reduce(ArgReduceOp op, const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  const char* op_name = op == ArgReduceOp::argmax ? "argmax" : "argmin";
  check_defined(x, op_name);
  Tensor in = dim ? x : reshape(x, {-1});
  int64_t d = dim ? wrap_dim(*dim, std::max<int64_t>(x.dim(), 1), op_name) : 0;
  if (in.dim() == 0) in = view(in, {1});
  NABLA_CHECK(in.size(d) > 0, ValueError, op_name, ": cannot reduce over dim ", d,
              " of size 0 (shape ", x.shape(), ")");
  Shape shape = in.shape();
  shape[d] = 1;
  Tensor out = empty(shape, {.dtype = kInt64, .device = x.device()});
  backend(x.device()).arg_reduce(op, in, d, out);
  if (!keepdim) return dim && x.dim() > 0 ? squeeze(out, d) : view(out, {});
  return dim ? out : view(out, Shape(x.dim(), 1));
}

Tensor softmax(const Tensor& x, int64_t dim, bool log) {
  const char* op_name = log ? "log_softmax" : "softmax";
  check_defined(x, op_name);
  NABLA_CHECK(is_floating(x.dtype()), DTypeError, op_name, ": needs a floating dtype, got ",
              x.dtype());
  Tensor in = contiguous(x.dim() == 0 ? view(x, {1}) : x);
  dim = wrap_dim(dim, in.dim(), op_name);
  Tensor out = empty(in.shape(), {.dtype = in.dtype(), .device = in.device()});
  backend(in.device()).softmax(in, dim, log, out);
  return view(out, x.shape());
}

}  // namespace nabla::core
