// Elementwise ops: dtype promotion, broadcasting, and output allocation before the backend runs.
#include <cmath>

#include "core/checks.h"
#include "core/ops.h"

namespace nabla::core {

const char* name(UnaryOp op) {
  static constexpr const char* names[] = {
      "neg",   "abs",  "sign",    "exp",         "log", "sqrt",  "rsqrt", "sin",
      "cos",   "tanh", "sigmoid", "relu",        "erf", "log1p", "expm1", "reciprocal",
      "floor", "ceil", "round",   "logical_not", "pow", "clamp", "gelu"};
  return names[static_cast<int>(op)];
}

const char* name(BinaryOp op) {
  static constexpr const char* names[] = {
      "add",          "sub", "mul", "div", "pow", "maximum",     "minimum",    "eq",
      "ne",           "lt",  "le",  "gt",  "ge",  "logical_and", "logical_or", "gelu_backward",
      "relu_backward"};
  return names[static_cast<int>(op)];
}

namespace {

// Ops that only make sense on real numbers compute integral inputs in float32, like PyTorch.
bool is_floating_only(UnaryOp op) {
  switch (op) {
    case UnaryOp::neg:
    case UnaryOp::abs:
    case UnaryOp::sign:
    case UnaryOp::relu:
    case UnaryOp::logical_not:
    case UnaryOp::clamp:
      return false;
    default:
      return true;
  }
}

void check_computable(const Tensor& t, const char* op) {
  NABLA_CHECK(!(is_half(t.dtype()) && t.device().is_cpu()), DTypeError, op, ": ", t.dtype(),
              " tensors are a storage format on the CPU; convert with to(kFloat32) first");
}

// The dtype `a op b` computes in; true division and pow of integers give float32.
DType compute_dtype(BinaryOp op, DType a, DType b) {
  DType d = promote_types(a, b);
  if ((op == BinaryOp::div || op == BinaryOp::pow || op == BinaryOp::gelu_backward) &&
      !is_floating(d))
    return kFloat32;
  return d;
}

// A 0-d tensor holding `value`, typed so that it promotes against `t` like a Python scalar.
Tensor scalar_like(const Tensor& t, double value) {
  DType dtype = t.dtype();
  bool integral_value = std::nearbyint(value) == value;
  if (!is_floating(dtype) && !integral_value)
    dtype = kFloat32;
  else if (dtype == kBool)
    dtype = kInt64;
  return scalar_tensor(value, {.dtype = dtype, .device = t.device()});
}

}  // namespace

Tensor unary(UnaryOp op, const Tensor& x, double alpha, double beta) {
  check_defined(x, name(op));
  check_computable(x, name(op));
  Tensor in = is_floating_only(op) && !is_floating(x.dtype()) ? to(x, kFloat32) : x;
  Tensor out = empty(in.shape(), {.dtype = op == UnaryOp::logical_not ? kBool : in.dtype(),
                                  .device = in.device()});
  backend(in.device()).unary(op, in, out, alpha, beta);
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  check_same_device(a, b, name(op));
  check_computable(a, name(op));
  check_computable(b, name(op));
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name(op));
  DType dtype = compute_dtype(op, a.dtype(), b.dtype());
  Tensor out = empty(shape, {.dtype = has_bool_result(op) ? kBool : dtype, .device = a.device()});
  backend(a.device()).binary(op, expand(to(a, dtype), shape), expand(to(b, dtype), shape), out);
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, double b) {
  check_defined(a, name(op));
  return binary(op, a, scalar_like(a, b));
}

Tensor binary(BinaryOp op, double a, const Tensor& b) {
  check_defined(b, name(op));
  return binary(op, scalar_like(b, a), b);
}

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  check_same_device(condition, a, "where");
  check_same_device(a, b, "where");
  NABLA_CHECK(condition.dtype() == kBool, DTypeError, "where: the condition must be bool, got ",
              condition.dtype());
  Shape shape =
      broadcast_shapes(broadcast_shapes(condition.shape(), a.shape(), "where"), b.shape(), "where");
  DType dtype = promote_types(a.dtype(), b.dtype());
  Tensor out = empty(shape, {.dtype = dtype, .device = a.device()});
  backend(a.device())
      .where(expand(condition, shape), expand(to(a, dtype), shape), expand(to(b, dtype), shape),
             out);
  return out;
}

void unary_(UnaryOp op, const Tensor& self, double alpha, double beta) {
  check_defined(self, name(op));
  check_computable(self, name(op));
  NABLA_CHECK(!is_floating_only(op) || is_floating(self.dtype()), DTypeError, name(op),
              "_: the result is floating point but the tensor is ", self.dtype());
  NABLA_CHECK(op != UnaryOp::logical_not, DTypeError, "logical_not_: has no in-place form");
  backend(self.device()).unary(op, self, self, alpha, beta);
  self.bump_version();
}

void binary_(BinaryOp op, const Tensor& self, const Tensor& other) {
  check_same_device(self, other, name(op));
  check_computable(self, name(op));
  NABLA_CHECK(!has_bool_result(op), DTypeError, name(op), "_: has no in-place form");
  Shape shape = broadcast_shapes(self.shape(), other.shape(), name(op));
  NABLA_CHECK(shape == self.shape(), ShapeError, name(op), "_: the result of shape ", shape,
              " does not fit in the tensor of shape ", self.shape(), " (other is ", other.shape(),
              ")");
  DType dtype = compute_dtype(op, self.dtype(), other.dtype());
  NABLA_CHECK(dtype == self.dtype(), DTypeError, name(op), "_: the result is ", dtype,
              " and cannot be stored in place in a ", self.dtype(), " tensor");
  backend(self.device()).binary(op, self, expand(to(other, dtype), shape), self);
  self.bump_version();
}

void binary_(BinaryOp op, const Tensor& self, double other) {
  check_defined(self, name(op));
  binary_(op, self, scalar_like(self, other));
}

}  // namespace nabla::core
