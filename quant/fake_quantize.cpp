// fake_quantize and fake_quantize_learnable: forward through core's elementwise ops, the
// straight-through and LSQ gradient rules beside them.
#include "quant/fake_quantize.h"

#include <cmath>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/ops/common.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"
#include "core/checks.h"
#include "core/ops.h"

namespace nabla::quant {

using autograd::BackwardContext;
using autograd::record;
using autograd::save;
using Grads = std::vector<Tensor>;

namespace {
void check_input(const Tensor& x, const char* op) {
  check_defined(x, op);
  NABLA_CHECK(x.dtype() == kFloat32 || x.dtype() == kFloat64, DTypeError, op,
              ": x must be float32 or float64, got ", x.dtype());
}

// (clamp(round(x / s) + zp, qmin, qmax) - zp) * s, untracked; s and zp broadcast against x.
Tensor quantize_dequantize(const Tensor& x, const Tensor& s, const Tensor& zp,
                           const QScheme& scheme) {
  Tensor q = core::binary(BinaryOp::add,
                          core::unary(UnaryOp::round, core::binary(BinaryOp::div, x, s)), zp);
  q = core::unary(UnaryOp::clamp, q, static_cast<double>(scheme.qmin()),
                  static_cast<double>(scheme.qmax()));
  return core::binary(BinaryOp::mul, core::binary(BinaryOp::sub, q, zp), s);
}
}  // namespace

double lsq_grad_factor(int64_t numel, const QScheme& scheme) {
  return 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(numel, 1)) * scheme.qmax());
}

Tensor fake_quantize(const Tensor& x, const QParams& qparams) {
  const char* op = "fake_quantize";
  check_input(x, op);
  qparams.validate(op);
  check_same_device(x, qparams.scale, op);
  const QScheme& scheme = qparams.scheme;
  Shape shape = qparams_broadcast_shape(x, scheme, qparams.channels(), op);
  Tensor s = core::to(core::reshape(qparams.scale, shape), x.dtype());
  Tensor zp = core::to(core::reshape(qparams.zero_point, shape), x.dtype());
  Tensor y = quantize_dequantize(x, s, zp, scheme);
  if (!GradMode::is_enabled() || !x.requires_grad()) return y;

  // The mask is all backward needs: a bool tensor instead of x.
  auto bound = [&](int64_t q) {
    return core::binary(BinaryOp::mul, core::binary(BinaryOp::sub, static_cast<double>(q), zp), s);
  };
  Tensor inside =
      core::binary(BinaryOp::logical_and, core::binary(BinaryOp::ge, x, bound(scheme.qmin())),
                   core::binary(BinaryOp::le, x, bound(scheme.qmax())));
  return record("fake_quantize", y, {x}, [inside](const BackwardContext& c) -> Grads {
    return {where(inside, c.grad, 0.0)};
  });
}

Tensor fake_quantize_learnable(const Tensor& x, const Tensor& scale, const Tensor& zero_point,
                               const QScheme& scheme, std::optional<double> grad_factor) {
  const char* op = "fake_quantize_learnable";
  check_input(x, op);
  check_defined(scale, op);
  check_same_device(x, scale, op);
  NABLA_CHECK(scale.dtype() == x.dtype(), DTypeError, op, ": scale must have x's dtype ", x.dtype(),
              ", got ", scale.dtype());
  NABLA_CHECK(scale.dim() == 1 && scale.numel() >= 1, ShapeError, op,
              ": scale must be [1] or [C], got shape ", scale.shape());
  NABLA_CHECK(scheme.per_channel() || scale.numel() == 1, ShapeError, op, ": scheme ",
              scheme.to_string(), " is per-tensor but scale has shape ", scale.shape());
  if (zero_point.defined()) {
    check_same_device(x, zero_point, op);
    NABLA_CHECK(zero_point.shape() == scale.shape(), ShapeError, op, ": zero_point ",
                zero_point.shape(), " must have scale's shape ", scale.shape());
  }
  std::vector<double> scales = scale.to_vector<double>();
  for (size_t c = 0; c < scales.size(); ++c)
    NABLA_CHECK(std::isfinite(scales[c]) && scales[c] > 0, ValueError, op, ": scale[", c, "] is ",
                scales[c], "; scales must be positive and finite");
  NABLA_CHECK(!grad_factor || std::isfinite(*grad_factor), ValueError, op,
              ": grad_factor must be finite, got ", *grad_factor);

  Shape shape = qparams_broadcast_shape(x, scheme, scale.numel(), op);
  const double qmin = static_cast<double>(scheme.qmin()), qmax = static_cast<double>(scheme.qmax());
  // The zero point used forward: an integer in [qmin, qmax], a constant to every rule below.
  Tensor zp = zero_point.defined()
                  ? core::unary(UnaryOp::clamp,
                                core::unary(UnaryOp::round,
                                            core::to(core::reshape(zero_point, shape), x.dtype())),
                                qmin, qmax)
                  : zeros(shape, {.dtype = x.dtype(), .device = x.device()});
  Tensor y = quantize_dequantize(x, core::reshape(scale, shape), zp, scheme);

  std::vector<Tensor> inputs = {x, scale};
  if (zero_point.defined()) inputs.push_back(zero_point);
  const double factor = grad_factor.value_or(lsq_grad_factor(x.numel(), scheme));
  return record(
      "fake_quantize_learnable", y, inputs,
      [sx = save(x), ss = save(scale), zp, shape, qmin, qmax, factor, scale_shape = scale.shape(),
       has_zp = zero_point.defined(),
       zp_like = zero_point.defined() ? autograd::Like(zero_point)
                                      : autograd::Like(scale)](const BackwardContext& c) -> Grads {
        Tensor x = sx.get();
        Tensor s = reshape(ss.get(), shape);  // differentiable: the rules below depend on s
        Tensor v = div(x, s);
        Tensor lo = core::binary(BinaryOp::sub, qmin, zp),
               hi = core::binary(BinaryOp::sub, qmax, zp);
        Tensor below = lt(v, lo), above = gt(v, hi);
        Tensor inside = logical_not(logical_or(below, above));
        Grads grads(has_zp ? 3 : 2);
        if (c.needs(0)) grads[0] = where(inside, c.grad, 0.0);
        // Summed over every dim but the channel axis, then scaled: [shape] -> scale's [1] or [C].
        auto reduce_to_qparam = [&](const Tensor& per_element) {
          return reshape(mul(sum_to(mul(c.grad, per_element), shape), factor), scale_shape);
        };
        if (c.needs(1)) {
          // round(v + zp) is piecewise constant: only -v carries a second-order gradient.
          Tensor rounding = sub(sub(round(add(v, zp)), zp), v);
          grads[1] = reduce_to_qparam(where(inside, rounding, where(below, lo, hi)));
        }
        if (has_zp && c.needs(2))
          grads[2] = to(reduce_to_qparam(where(inside, 0.0, neg(s))), zp_like.dtype);
        return grads;
      });
}

}  // namespace nabla::quant
