// Elementwise ops: forward through core, gradient rules beside them, written with the same
// differentiable ops so that they can be differentiated again.
#include "autograd/ops/elementwise.h"

#include <cmath>
#include <numbers>

#include "autograd/ops/common.h"

namespace nabla {

using autograd::BackwardContext;
using autograd::Like;
using autograd::record;
using autograd::save;
using autograd::SaveOutput;
using autograd::unbroadcast;
using Grads = std::vector<Tensor>;

// ---- Binary arithmetic ----

Tensor add(const Tensor& a, const Tensor& b) {
  return record("add", core::binary(BinaryOp::add, a, b), {a, b},
                [la = Like(a), lb = Like(b)](const BackwardContext& c) -> Grads {
                  return {c.needs(0) ? unbroadcast(c.grad, la) : Tensor(),
                          c.needs(1) ? unbroadcast(c.grad, lb) : Tensor()};
                });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return record("sub", core::binary(BinaryOp::sub, a, b), {a, b},
                [la = Like(a), lb = Like(b)](const BackwardContext& c) -> Grads {
                  return {c.needs(0) ? unbroadcast(c.grad, la) : Tensor(),
                          c.needs(1) ? unbroadcast(neg(c.grad), lb) : Tensor()};
                });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  return record(
      "mul", core::binary(BinaryOp::mul, a, b), {a, b},
      [sa = save(a), sb = save(b), la = Like(a), lb = Like(b)](const BackwardContext& c) -> Grads {
        return {c.needs(0) ? unbroadcast(mul(c.grad, sb.get()), la) : Tensor(),
                c.needs(1) ? unbroadcast(mul(c.grad, sa.get()), lb) : Tensor()};
      });
}

Tensor div(const Tensor& a, const Tensor& b) {
  // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
  return record(
      "div", core::binary(BinaryOp::div, a, b), {a, b},
      [sa = save(a), sb = save(b), la = Like(a), lb = Like(b)](const BackwardContext& c) -> Grads {
        Tensor b = sb.get();
        return {
            c.needs(0) ? unbroadcast(div(c.grad, b), la) : Tensor(),
            c.needs(1) ? unbroadcast(neg(div(mul(c.grad, sa.get()), mul(b, b))), lb) : Tensor()};
      });
}

Tensor pow(const Tensor& base, const Tensor& exponent) {
  // d(a^b)/da = b a^(b-1), d(a^b)/db = a^b log(a)
  return record(
      "pow", core::binary(BinaryOp::pow, base, exponent), {base, exponent},
      [sa = save(base), sb = save(exponent), la = Like(base),
       lb = Like(exponent)](const BackwardContext& c) -> Grads {
        Tensor a = sa.get(), b = sb.get();
        return {c.needs(0) ? unbroadcast(mul(c.grad, mul(b, pow(a, sub(b, 1.0)))), la) : Tensor(),
                c.needs(1) ? unbroadcast(mul(c.grad, mul(pow(a, b), log(a))), lb) : Tensor()};
      });
}

Tensor pow(const Tensor& base, double exponent) {
  return record("pow", core::unary(UnaryOp::pow_scalar, base, exponent), {base},
                [sa = save(base), exponent](const BackwardContext& c) -> Grads {
                  if (exponent == 0) return {zeros_like(c.grad)};
                  return {mul(c.grad, mul(pow(sa.get(), exponent - 1), exponent))};
                });
}

namespace {
// maximum/minimum send the gradient to the input that won; a tie splits it evenly.
Tensor extremum(const char* name, BinaryOp op, BinaryOp wins, const Tensor& a, const Tensor& b) {
  return record(name, core::binary(op, a, b), {a, b},
                [sa = save(a), sb = save(b), la = Like(a), lb = Like(b),
                 wins](const BackwardContext& c) -> Grads {
                  Tensor a = sa.get(), b = sb.get();
                  Tensor share =
                      add(core::to(core::binary(wins, a, b), c.grad.dtype()),
                          mul(core::to(core::binary(BinaryOp::eq, a, b), c.grad.dtype()), 0.5));
                  return {c.needs(0) ? unbroadcast(mul(c.grad, share), la) : Tensor(),
                          c.needs(1) ? unbroadcast(mul(c.grad, sub(1.0, share)), lb) : Tensor()};
                });
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum("maximum", BinaryOp::maximum, BinaryOp::gt, a, b);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum("minimum", BinaryOp::minimum, BinaryOp::lt, a, b);
}

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  return record("where", core::where(condition, a, b), {a, b},
                [cond = condition, la = Like(a), lb = Like(b)](const BackwardContext& c) -> Grads {
                  return {c.needs(0) ? unbroadcast(where(cond, c.grad, 0.0), la) : Tensor(),
                          c.needs(1) ? unbroadcast(where(cond, 0.0, c.grad), lb) : Tensor()};
                });
}

Tensor where(const Tensor& condition, double a, const Tensor& b) {
  return where(condition, scalar_tensor(a, {.dtype = b.dtype(), .device = b.device()}), b);
}

Tensor where(const Tensor& condition, const Tensor& a, double b) {
  return where(condition, a, scalar_tensor(b, {.dtype = a.dtype(), .device = a.device()}));
}

// Scalar forms: the scalar needs no gradient, so these are the tensor forms with a constant.
Tensor add(const Tensor& a, double b) {
  return record(
      "add", core::binary(BinaryOp::add, a, b), {a},
      [la = Like(a)](const BackwardContext& c) -> Grads { return {unbroadcast(c.grad, la)}; });
}
Tensor sub(const Tensor& a, double b) { return add(a, -b); }
Tensor sub(double a, const Tensor& b) { return add(neg(b), a); }
Tensor mul(const Tensor& a, double b) {
  return record("mul", core::binary(BinaryOp::mul, a, b), {a},
                [la = Like(a), b](const BackwardContext& c) -> Grads {
                  return {unbroadcast(mul(c.grad, b), la)};
                });
}
Tensor div(const Tensor& a, double b) { return mul(a, 1.0 / b); }
Tensor div(double a, const Tensor& b) { return mul(reciprocal(b), a); }

// ---- Unary ----

namespace {
// A unary op whose rule needs the input x: grad * derivative(x).
template <class Derivative>
Tensor unary_from_input(const char* name, UnaryOp op, const Tensor& x, Derivative derivative) {
  return record(name, core::unary(op, x), {x},
                [sx = save(x), derivative](const BackwardContext& c) -> Grads {
                  return {mul(c.grad, derivative(sx.get()))};
                });
}
// A unary op whose rule is cheapest in terms of its output y: grad * derivative(y).
template <class Derivative>
Tensor unary_from_output(const char* name, UnaryOp op, const Tensor& x, Derivative derivative) {
  return record(
      name, core::unary(op, x), {x},
      [derivative](const BackwardContext& c) -> Grads {
        return {mul(c.grad, derivative(c.output()))};
      },
      SaveOutput::yes);
}
}  // namespace

Tensor neg(const Tensor& x) {
  return record("neg", core::unary(UnaryOp::neg, x), {x},
                [](const BackwardContext& c) -> Grads { return {neg(c.grad)}; });
}

Tensor exp(const Tensor& x) {
  return unary_from_output("exp", UnaryOp::exp, x, [](const Tensor& y) { return y; });
}

Tensor log(const Tensor& x) {
  return record(
      "log", core::unary(UnaryOp::log, x), {x},
      [sx = save(x)](const BackwardContext& c) -> Grads { return {div(c.grad, sx.get())}; });
}

Tensor sqrt(const Tensor& x) {
  return record(
      "sqrt", core::unary(UnaryOp::sqrt, x), {x},
      [](const BackwardContext& c) -> Grads { return {div(c.grad, mul(c.output(), 2.0))}; },
      SaveOutput::yes);
}

Tensor rsqrt(const Tensor& x) {  // d(x^-1/2)/dx = -1/2 x^-3/2 = -1/2 y^3
  return unary_from_output("rsqrt", UnaryOp::rsqrt, x,
                           [](const Tensor& y) { return mul(pow(y, 3.0), -0.5); });
}

Tensor square(const Tensor& x) { return pow(x, 2.0); }

Tensor reciprocal(const Tensor& x) {  // d(1/x)/dx = -1/x^2 = -y^2
  return unary_from_output("reciprocal", UnaryOp::reciprocal, x,
                           [](const Tensor& y) { return neg(mul(y, y)); });
}

Tensor abs(const Tensor& x) {
  return unary_from_input("abs", UnaryOp::abs, x, [](const Tensor& v) { return sign(v); });
}

Tensor sign(const Tensor& x) {
  return record("sign", core::unary(UnaryOp::sign, x), {x},
                [](const BackwardContext& c) -> Grads { return {zeros_like(c.grad)}; });
}

Tensor sin(const Tensor& x) {
  return unary_from_input("sin", UnaryOp::sin, x, [](const Tensor& v) { return cos(v); });
}

Tensor cos(const Tensor& x) {
  return unary_from_input("cos", UnaryOp::cos, x, [](const Tensor& v) { return neg(sin(v)); });
}

Tensor tanh(const Tensor& x) {  // 1 - tanh^2
  return unary_from_output("tanh", UnaryOp::tanh, x,
                           [](const Tensor& y) { return sub(1.0, mul(y, y)); });
}

Tensor sigmoid(const Tensor& x) {  // s (1 - s)
  return unary_from_output("sigmoid", UnaryOp::sigmoid, x,
                           [](const Tensor& y) { return mul(y, sub(1.0, y)); });
}

// Linear in grad, so its own gradient is the same masking.
Tensor relu_backward(const Tensor& grad, const Tensor& output) {
  return record("relu_backward", core::binary(BinaryOp::relu_backward, output, grad), {grad},
                [so = save(output)](const BackwardContext& c) -> Grads {
                  return {relu_backward(c.grad, so.get())};
                });
}

Tensor relu(const Tensor& x) {
  return record(
      "relu", core::unary(UnaryOp::relu, x), {x},
      [](const BackwardContext& c) -> Grads { return {relu_backward(c.grad, c.output())}; },
      SaveOutput::yes);
}

Tensor gelu(const Tensor& x) {
  return record("gelu", core::unary(UnaryOp::gelu, x), {x},
                [sx = save(x)](const BackwardContext& c) -> Grads {
                  return {gelu_backward(c.grad, sx.get())};
                });
}

Tensor gelu_backward(const Tensor& grad, const Tensor& x) {
  // d/dgrad is GELU'(x); d/dx is grad * GELU''(x), GELU''(x) = phi(x) (2 - x^2).
  return record("gelu_backward", core::binary(BinaryOp::gelu_backward, x, grad), {grad, x},
                [sg = save(grad), sx = save(x)](const BackwardContext& c) -> Grads {
                  Tensor v = sx.get();
                  if (!c.needs(1)) return {gelu_backward(c.grad, v), Tensor()};
                  Tensor square = mul(v, v);
                  Tensor pdf = mul(exp(mul(square, -0.5)),
                                   0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
                  Tensor curvature = mul(pdf, sub(2.0, square));
                  return {c.needs(0) ? gelu_backward(c.grad, v) : Tensor(),
                          mul(mul(c.grad, sg.get()), curvature)};
                });
}

Tensor erf(const Tensor& x) {  // 2 / sqrt(pi) * exp(-x^2)
  return unary_from_input("erf", UnaryOp::erf, x, [](const Tensor& v) {
    return mul(exp(neg(mul(v, v))), 2.0 / std::sqrt(std::numbers::pi));
  });
}

Tensor log1p(const Tensor& x) {
  return record("log1p", core::unary(UnaryOp::log1p, x), {x},
                [sx = save(x)](const BackwardContext& c) -> Grads {
                  return {div(c.grad, add(sx.get(), 1.0))};
                });
}

Tensor expm1(const Tensor& x) {
  return unary_from_output("expm1", UnaryOp::expm1, x, [](const Tensor& y) { return add(y, 1.0); });
}

Tensor clamp(const Tensor& x, double min, double max) {
  NABLA_CHECK(!(min > max), ValueError, "clamp: min (", min, ") is greater than max (", max, ")");
  return record("clamp", core::unary(UnaryOp::clamp, x, min, max), {x},
                [sx = save(x), min, max](const BackwardContext& c) -> Grads {
                  Tensor v = sx.get();
                  Tensor inside =
                      core::binary(BinaryOp::logical_and, core::binary(BinaryOp::ge, v, min),
                                   core::binary(BinaryOp::le, v, max));
                  return {where(inside, c.grad, 0.0)};
                });
}

Tensor clamp_min(const Tensor& x, double min) { return clamp(x, min, INFINITY); }
Tensor clamp_max(const Tensor& x, double max) { return clamp(x, -INFINITY, max); }

Tensor floor(const Tensor& x) { return core::unary(UnaryOp::floor, x); }
Tensor ceil(const Tensor& x) { return core::unary(UnaryOp::ceil, x); }
Tensor round(const Tensor& x) { return core::unary(UnaryOp::round, x); }

// ---- Comparisons and logic ----

Tensor eq(const Tensor& a, const Tensor& b) { return core::binary(BinaryOp::eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return core::binary(BinaryOp::ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return core::binary(BinaryOp::lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return core::binary(BinaryOp::le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return core::binary(BinaryOp::gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return core::binary(BinaryOp::ge, a, b); }
Tensor eq(const Tensor& a, double b) { return core::binary(BinaryOp::eq, a, b); }
Tensor ne(const Tensor& a, double b) { return core::binary(BinaryOp::ne, a, b); }
Tensor lt(const Tensor& a, double b) { return core::binary(BinaryOp::lt, a, b); }
Tensor le(const Tensor& a, double b) { return core::binary(BinaryOp::le, a, b); }
Tensor gt(const Tensor& a, double b) { return core::binary(BinaryOp::gt, a, b); }
Tensor ge(const Tensor& a, double b) { return core::binary(BinaryOp::ge, a, b); }
Tensor logical_not(const Tensor& x) { return core::unary(UnaryOp::logical_not, x); }
Tensor logical_and(const Tensor& a, const Tensor& b) {
  return core::binary(BinaryOp::logical_and, a, b);
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  return core::binary(BinaryOp::logical_or, a, b);
}

}  // namespace nabla
