// Fake quantization: quantize then dequantize in float, so that training sees the rounding and
// clipping that int8 inference will apply. Differentiable through straight-through estimators,
// with fixed qparams or with a learned step size (LSQ).
#pragma once

#include <optional>

#include "core/tensor.h"
#include "quant/qscheme.h"

namespace nabla::quant {

// (clamp(round(x / scale) + zero_point, qmin, qmax) - zero_point) * scale, in x's dtype (float32
// or float64); per-channel schemes broadcast along their axis.
// Backward, the straight-through estimator: the gradient passes where
//   (qmin - zero_point) * scale <= x <= (qmax - zero_point) * scale
// and is zero outside, where the output is clamped. The qparams take no gradient.
Tensor fake_quantize(const Tensor& x, const QParams& qparams);

// LSQ (Esser et al. 2020, "Learned Step Size Quantization"): fake quantization whose scale (and
// zero point, for affine schemes) are learned. scale: [1] or [C], x's dtype, positive.
// zero_point: undefined (0), or [1] or [C] of any dtype; it is rounded and clamped to
// [qmin, qmax] forward, as in PyTorch's _fake_quantize_learnable_per_tensor_affine. With
// v = x / scale and inside = (qmin - zp <= v <= qmax - zp):
//   d/dx     = inside ? 1 : 0                                      (straight-through)
//   d/dscale = inside ? round(v + zp) - zp - v : (v < qmin - zp ? qmin - zp : qmax - zp)
//   d/dzp    = inside ? 0 : -scale
// each multiplied by the incoming gradient and summed over the tensor (per channel for
// per-channel schemes), the last two also by grad_factor: LSQ's 1 / sqrt(x.numel() * qmax) by
// default, which keeps the step size's updates in proportion to the weights'.
// The backward is built from differentiable ops, so that it can itself be differentiated.
Tensor fake_quantize_learnable(const Tensor& x, const Tensor& scale, const Tensor& zero_point,
                               const QScheme& scheme,
                               std::optional<double> grad_factor = std::nullopt);

// LSQ's default gradient scale for a tensor of `numel` elements.
double lsq_grad_factor(int64_t numel, const QScheme& scheme);

}  // namespace nabla::quant
