// Edge qparams, uint8 quantize/dequantize loops and the buffers int8 modules keep them in.
#include "quant/quantized_module.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/creation.h"
#include "core/error.h"
#include "core/ops.h"

namespace nabla::quant {

EdgeQParams EdgeQParams::from(const QParams& qparams, const char* op) {
  qparams.validate(op);
  NABLA_CHECK(!qparams.scheme.per_channel() && qparams.channels() == 1, ValueError, op,
              ": an activation needs per-tensor qparams, got ", qparams.scheme.to_string(),
              " with ", qparams.channels(), " scales");
  NABLA_CHECK(qparams.scheme.dtype != QDType::int4, ValueError, op,
              ": int4 activations are not supported (", qparams.scheme.to_string(), ")");
  // int8 q and uint8 q + 128 stand for the same real value.
  const int64_t shift = qparams.scheme.dtype == QDType::int8 ? 128 : 0;
  EdgeQParams edge{.scale = qparams.scale.item<float>(),
                   .zero_point = qparams.zero_point.item<int64_t>() + shift,
                   .qmin = qparams.scheme.qmin() + shift,
                   .qmax = qparams.scheme.qmax() + shift};
  edge.validate(op);
  return edge;
}

void EdgeQParams::validate(const char* op) const {
  NABLA_CHECK(std::isfinite(scale) && scale > 0, ValueError, op,
              ": an activation's scale must be positive and finite, got ", scale);
  NABLA_CHECK(0 <= qmin && qmin <= zero_point && zero_point <= qmax && qmax <= 255, ValueError, op,
              ": an activation needs 0 <= qmin <= zero_point <= qmax <= 255, got qmin ", qmin,
              ", zero_point ", zero_point, ", qmax ", qmax);
}

std::string EdgeQParams::to_string() const {
  std::ostringstream os;
  os << "(scale=" << scale << ", zero_point=" << zero_point;
  if (qmin != 0 || qmax != 255) os << ", qmin=" << qmin << ", qmax=" << qmax;
  os << ")";
  return os.str();
}

void check_uint8_input(const Tensor& x, int64_t ndim, const char* op) {
  NABLA_CHECK(x.defined(), ValueError, op, ": input is undefined");
  NABLA_CHECK(x.dtype() == kUInt8, DTypeError, op, ": input must be uint8 (quantized), got ",
              name(x.dtype()), " ", x.shape());
  NABLA_CHECK(x.device().is_cpu(), DeviceError, op, ": int8 modules run on the CPU, input is on ",
              x.device());
  NABLA_CHECK(ndim == 0 || x.dim() == ndim, ShapeError, op, ": input must have ", ndim,
              " dims, got ", x.shape());
}

Tensor quantize_uint8(const Tensor& x, const EdgeQParams& edge) {
  NABLA_CHECK(x.defined() && is_floating(x.dtype()), DTypeError,
              "quantize_uint8: input must be a float tensor, got ",
              x.defined() ? name(x.dtype()) : "undefined");
  const Tensor xf = core::contiguous(core::to(core::to(x, Device::cpu()), kFloat32));
  Tensor q = empty(x.shape(), {.dtype = kUInt8});
  const float* src = xf.data<float>();
  uint8_t* dst = q.data<uint8_t>();
  const float lo = float(edge.qmin), hi = float(edge.qmax), zp = float(edge.zero_point);
  const int64_t n = x.numel();
  // x / scale, not x * (1 / scale), as quantize() divides; the clamp comes first so that NaN and
  // huge values cannot overflow the conversion (NaN goes to qmin).
#pragma omp parallel for if (n > (1 << 16)) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    float v = std::nearbyint(src[i] / edge.scale) + zp;
    v = std::max(lo, std::min(hi, v));
    dst[i] = static_cast<uint8_t>(v);
  }
  return q;
}

Tensor dequantize_uint8(const Tensor& q, const EdgeQParams& edge) {
  check_uint8_input(q, 0, "dequantize_uint8");
  const Tensor qc = core::contiguous(q);
  Tensor x = empty(q.shape(), {.dtype = kFloat32});
  const uint8_t* src = qc.data<uint8_t>();
  float* dst = x.data<float>();
  const int64_t n = q.numel();
  const float zp = float(edge.zero_point);
#pragma omp parallel for if (n > (1 << 16)) schedule(static)
  for (int64_t i = 0; i < n; ++i) dst[i] = (float(src[i]) - zp) * edge.scale;
  return x;
}

void QuantizedModule::register_edge(const std::string& name, const EdgeQParams& edge) {
  edge.validate(type_name().c_str());
  register_buffer(name + "_scale", from_vector<float>({edge.scale}, {1}));
  register_buffer(name + "_zero_point", from_vector<int64_t>({edge.zero_point}, {1}));
  register_buffer(name + "_qrange", from_vector<int64_t>({edge.qmin, edge.qmax}, {2}));
}

Tensor QuantizedModule::buffer(const std::string& name) const {
  for (const auto& [key, t] : named_buffers(false))
    if (key == name) return t;
  NABLA_ASSERT(!"an int8 module's buffer is missing");
  return Tensor();
}

EdgeQParams QuantizedModule::read_edge(const std::string& name, const char* op) const {
  const auto range = buffer(name + "_qrange").to_vector<int64_t>();
  EdgeQParams edge{.scale = buffer(name + "_scale").item<float>(),
                   .zero_point = buffer(name + "_zero_point").item<int64_t>(),
                   .qmin = range.at(0),
                   .qmax = range.at(1)};
  edge.validate(op);
  return edge;
}

}  // namespace nabla::quant
