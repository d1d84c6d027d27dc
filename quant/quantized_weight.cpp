// Per-channel symmetric int8 weights.
#include "quant/quantized_weight.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/creation.h"
#include "core/error.h"
#include "core/ops.h"

namespace nabla::quant {
namespace {

// w as a contiguous float32 CPU tensor with its rows (output channels) first.
Tensor float_rows(const Tensor& w, const char* op) {
  NABLA_CHECK(w.defined() && is_floating(w.dtype()) && w.dim() >= 1, DTypeError, op,
              ": the weight must be a float tensor of at least one dim, got ",
              w.defined() ? name(w.dtype()) : "undefined");
  return core::contiguous(core::to(core::to(w, Device::cpu()), kFloat32));
}

QuantizedWeight quantize_rows(const Tensor& wf, const std::vector<float>& scales) {
  const int64_t rows = wf.size(0), per_row = rows == 0 ? 0 : wf.numel() / rows;
  Tensor q = empty(wf.shape(), {.dtype = kInt8});
  const float* src = wf.data<float>();
  int8_t* dst = q.data<int8_t>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < per_row; ++i) {
      const float v = std::nearbyint(src[r * per_row + i] / scales[size_t(r)]);
      dst[r * per_row + i] = static_cast<int8_t>(std::clamp(v, -127.0f, 127.0f));
    }
  return {q, from_vector<float>(scales, {rows})};
}

}  // namespace

QuantizedWeight quantize_weight_per_channel(const Tensor& weight) {
  const Tensor wf = float_rows(weight, "quantize_weight_per_channel");
  const int64_t rows = wf.size(0), per_row = rows == 0 ? 0 : wf.numel() / rows;
  const float* src = wf.data<float>();
  std::vector<float> scales(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    float amax = 0;
    for (int64_t i = 0; i < per_row; ++i) amax = std::max(amax, std::fabs(src[r * per_row + i]));
    NABLA_CHECK(std::isfinite(amax), ValueError, "quantize_weight_per_channel: output channel ", r,
                " holds a non-finite value");
    scales[size_t(r)] = std::max(amax / 127.0f, std::numeric_limits<float>::epsilon());
  }
  return quantize_rows(wf, scales);
}

QuantizedWeight quantize_weight_with(const Tensor& weight, const QParams& qparams, const char* op) {
  qparams.validate(op);
  const Tensor wf = float_rows(weight, op);
  const int64_t rows = wf.size(0);
  const bool per_channel = qparams.scheme.per_channel();
  NABLA_CHECK(!per_channel || qparams.scheme.axis_for(wf.dim(), op) == 0, ValueError, op,
              ": weight qparams must be per-tensor or per output channel (axis 0), got ",
              qparams.scheme.to_string());
  NABLA_CHECK(qparams.channels() == 1 || qparams.channels() == rows, ValueError, op, ": ",
              qparams.channels(), " weight scales for ", rows, " output channels");
  for (int64_t zp : qparams.zero_point.to_vector<int64_t>())
    NABLA_CHECK(zp == 0, ValueError, op, ": int8 weights need zero points of 0 (symmetric), got ",
                zp);
  std::vector<float> s = qparams.scale.to_vector<float>();
  if (s.size() == 1) s.assign(size_t(rows), s[0]);
  return quantize_rows(wf, s);
}

Tensor dequantize_weight(const Tensor& weight, const Tensor& scale) {
  Shape shape(size_t(weight.dim()), 1);
  shape[0] = scale.numel();
  return core::binary(BinaryOp::mul, core::to(weight, kFloat32),
                      core::reshape(core::to(scale, kFloat32), shape));
}

CheckedWeight check_quantized_weight(const Tensor& weight, const Tensor& scale, const Tensor& bias,
                                     int64_t ndim, const char* op) {
  NABLA_CHECK(weight.defined() && weight.dtype() == kInt8 && weight.dim() == ndim, DTypeError, op,
              ": the weight must be int8 with ", ndim, " dims, got ",
              weight.defined() ? name(weight.dtype()) : "undefined", " ",
              weight.defined() ? weight.shape() : Shape{});
  const int64_t out = weight.size(0);
  NABLA_CHECK(
      scale.defined() && scale.dtype() == kFloat32 && (scale.numel() == 1 || scale.numel() == out),
      ValueError, op, ": weight_scale must be float32 with 1 or ", out, " values, got ",
      scale.defined() ? scale.shape() : Shape{});
  NABLA_CHECK(!bias.defined() || (bias.dtype() == kFloat32 && bias.numel() == out), ValueError, op,
              ": bias must be float32 [", out, "], got ", bias.shape());
  CheckedWeight checked;
  checked.scale = scale.numel() == out ? core::clone(core::reshape(scale, {out}))
                                       : full({out}, scale.item<double>());
  checked.bias = bias.defined() ? core::clone(core::reshape(bias, {out})) : zeros({out});
  return checked;
}

}  // namespace nabla::quant
