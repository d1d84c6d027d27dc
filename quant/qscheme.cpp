// Integer ranges, choose_qparams, quantize/dequantize composed from core's elementwise ops (so
// that they run on any backend), and int4 packing.
#include "quant/qscheme.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>
#include <sstream>
#include <vector>

#include "core/checks.h"
#include "core/ops.h"

namespace nabla::quant {

const char* name(QDType dtype) {
  switch (dtype) {
    case QDType::int8:
      return "int8";
    case QDType::uint8:
      return "uint8";
    case QDType::int4:
      return "int4";
  }
  return "?";
}

const char* name(QMode mode) { return mode == QMode::affine ? "affine" : "symmetric"; }

int64_t QScheme::qmin() const {
  switch (dtype) {
    case QDType::int8:
      return (reduce_range ? -64 : -128) + (narrow_range ? 1 : 0);
    case QDType::uint8:
      return 0;
    case QDType::int4:
      return (reduce_range ? -4 : -8) + (narrow_range ? 1 : 0);
  }
  return 0;
}

int64_t QScheme::qmax() const {
  switch (dtype) {
    case QDType::int8:
      return reduce_range ? 63 : 127;
    case QDType::uint8:
      return reduce_range ? 127 : 255;
    case QDType::int4:
      return reduce_range ? 3 : 7;
  }
  return 0;
}

DType QScheme::storage_dtype() const { return dtype == QDType::uint8 ? kUInt8 : kInt8; }

int64_t QScheme::axis_for(int64_t ndim, const char* op) const {
  NABLA_CHECK(channel_axis.has_value(), ValueError, op, ": scheme ", to_string(),
              " is per-tensor and has no channel axis");
  int64_t axis = *channel_axis;
  NABLA_CHECK(ndim >= 1 && axis >= -ndim && axis < ndim, IndexError, op, ": channel axis ", axis,
              " is out of range for a ", ndim, "-d tensor (expected ", -ndim, " to ", ndim - 1,
              ")");
  return axis < 0 ? axis + ndim : axis;
}

std::string QScheme::to_string() const {
  std::ostringstream os;
  os << name(dtype) << " " << name(mode) << " ";
  if (channel_axis)
    os << "per-channel(axis=" << *channel_axis << ")";
  else
    os << "per-tensor";
  if (reduce_range) os << " reduce_range";
  if (narrow_range && dtype != QDType::uint8) os << " narrow_range";
  os << " [" << qmin() << ", " << qmax() << "]";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const QScheme& scheme) {
  return os << scheme.to_string();
}

void QParams::validate(const char* op) const {
  NABLA_CHECK(scale.defined() && zero_point.defined(), ValueError, op,
              ": qparams need both a scale and a zero_point");
  NABLA_CHECK(scale.dtype() == kFloat32, DTypeError, op, ": scale must be float32, got ",
              scale.dtype());
  NABLA_CHECK(zero_point.dtype() == kInt64, DTypeError, op, ": zero_point must be int64, got ",
              zero_point.dtype());
  NABLA_CHECK(scale.dim() == 1 && zero_point.dim() == 1 && scale.numel() == zero_point.numel(),
              ShapeError, op, ": scale ", scale.shape(), " and zero_point ", zero_point.shape(),
              " must both be [1] or both [C]");
  NABLA_CHECK(scheme.per_channel() || scale.numel() == 1, ShapeError, op, ": scheme ",
              scheme.to_string(), " is per-tensor but scale has shape ", scale.shape());
  NABLA_CHECK(scale.numel() >= 1, ShapeError, op, ": scale has no elements");
  check_same_device(scale, zero_point, op);
  std::vector<float> s = scale.to_vector<float>();
  std::vector<int64_t> z = zero_point.to_vector<int64_t>();
  for (size_t c = 0; c < s.size(); ++c) {
    NABLA_CHECK(std::isfinite(s[c]) && s[c] > 0, ValueError, op, ": scale[", c, "] is ", s[c],
                "; scales must be positive and finite");
    NABLA_CHECK(z[c] >= scheme.qmin() && z[c] <= scheme.qmax(), ValueError, op, ": zero_point[", c,
                "] is ", z[c], ", outside the scheme's range [", scheme.qmin(), ", ", scheme.qmax(),
                "]");
  }
}

ScalarQParams choose_qparams(float min, float max, const QScheme& scheme) {
  const char* op = "choose_qparams";
  NABLA_CHECK(std::isfinite(min) && std::isfinite(max), ValueError, op, ": range [", min, ", ", max,
              "] is not finite (has the observer seen any data?)");
  NABLA_CHECK(min <= max, ValueError, op, ": min ", min, " > max ", max);
  // In float32, as PyTorch's observers compute on float32 tensors, so that the results agree bit
  // for bit.
  constexpr float eps = std::numeric_limits<float>::epsilon();
  const int64_t qmin = scheme.qmin(), qmax = scheme.qmax();
  const float min_neg = std::min(min, 0.0f), max_pos = std::max(max, 0.0f);
  ScalarQParams p;
  if (scheme.symmetric()) {
    float bound = std::max(-min_neg, max_pos);
    p.scale = std::max(bound / (static_cast<float>(qmax - qmin) / 2), eps);
    p.zero_point = scheme.dtype == QDType::uint8 ? (qmin + qmax + 1) / 2 : 0;
  } else {
    p.scale = std::max((max_pos - min_neg) / static_cast<float>(qmax - qmin), eps);
    int64_t zp = qmin - static_cast<int64_t>(std::nearbyint(min_neg / p.scale));
    p.zero_point = std::clamp(zp, qmin, qmax);
  }
  return p;
}

QParams choose_qparams(const Tensor& min, const Tensor& max, const QScheme& scheme) {
  const char* op = "choose_qparams";
  check_same_device(min, max, op);
  NABLA_CHECK(is_floating(min.dtype()) && is_floating(max.dtype()), DTypeError, op,
              ": min and max must be floating point, got ", min.dtype(), " and ", max.dtype());
  NABLA_CHECK(min.numel() == max.numel(), ShapeError, op, ": min ", min.shape(), " and max ",
              max.shape(), " must have the same number of elements");
  NABLA_CHECK(min.numel() >= 1, ShapeError, op, ": min and max are empty");
  NABLA_CHECK(scheme.per_channel() || min.numel() == 1, ShapeError, op, ": scheme ",
              scheme.to_string(), " is per-tensor but min has ", min.numel(), " elements (shape ",
              min.shape(), ")");
  std::vector<float> lo = min.to_vector<float>(), hi = max.to_vector<float>();
  const int64_t channels = min.numel();
  std::vector<float> scales(channels);
  std::vector<int64_t> zero_points(channels);
  for (int64_t c = 0; c < channels; ++c) {
    NABLA_CHECK(std::isfinite(lo[c]) && std::isfinite(hi[c]), ValueError, op, ": range ", c,
                " is [", lo[c], ", ", hi[c], "], not finite (has the observer seen any data?)");
    NABLA_CHECK(lo[c] <= hi[c], ValueError, op, ": range ", c, " has min ", lo[c], " > max ",
                hi[c]);
    ScalarQParams p = choose_qparams(lo[c], hi[c], scheme);
    scales[c] = p.scale;
    zero_points[c] = p.zero_point;
  }
  Shape shape{channels};
  return {.scale = from_vector<float>(scales, shape, {.dtype = kFloat32, .device = min.device()}),
          .zero_point =
              from_vector<int64_t>(zero_points, shape, {.dtype = kInt64, .device = min.device()}),
          .scheme = scheme};
}

Shape qparams_broadcast_shape(const Tensor& x, const QScheme& scheme, int64_t channels,
                              const char* op) {
  Shape shape(x.dim(), 1);
  if (!scheme.per_channel()) return shape;
  int64_t axis = scheme.axis_for(x.dim(), op);
  NABLA_CHECK(x.size(axis) == channels, ShapeError, op, ": tensor ", x.shape(), " has ",
              x.size(axis), " channels along axis ", axis, " but scale has ", channels);
  shape[axis] = channels;
  return shape;
}

namespace {
// scale and zero_point reshaped to broadcast against x.
std::pair<Tensor, Tensor> broadcastable(const Tensor& x, const QParams& qparams, const char* op) {
  Shape shape = qparams_broadcast_shape(x, qparams.scheme, qparams.channels(), op);
  return {core::reshape(qparams.scale, shape), core::reshape(qparams.zero_point, shape)};
}
}  // namespace

Tensor quantize(const Tensor& x, const QParams& qparams) {
  const char* op = "quantize";
  check_defined(x, op);
  NABLA_CHECK(x.dtype() == kFloat32 || x.dtype() == kFloat64, DTypeError, op,
              ": x must be float32 or float64, got ", x.dtype());
  qparams.validate(op);
  check_same_device(x, qparams.scale, op);
  auto [scale, zero_point] = broadcastable(x, qparams, op);
  // In x's dtype: float64 inputs keep their precision up to the rounding.
  Tensor v = core::binary(BinaryOp::div, x, core::to(scale, x.dtype()));
  v = core::binary(BinaryOp::add, core::unary(UnaryOp::round, v), core::to(zero_point, x.dtype()));
  v = core::unary(UnaryOp::clamp, v, static_cast<double>(qparams.scheme.qmin()),
                  static_cast<double>(qparams.scheme.qmax()));
  return core::to(v, qparams.scheme.storage_dtype());
}

Tensor dequantize(const Tensor& q, const QParams& qparams) {
  const char* op = "dequantize";
  check_defined(q, op);
  NABLA_CHECK(q.dtype() == qparams.scheme.storage_dtype(), DTypeError, op, ": scheme ",
              qparams.scheme.to_string(), " stores ", qparams.scheme.storage_dtype(),
              " values, got a ", q.dtype(), " tensor");
  qparams.validate(op);
  check_same_device(q, qparams.scale, op);
  auto [scale, zero_point] = broadcastable(q, qparams, op);
  Tensor centered =
      core::binary(BinaryOp::sub, core::to(q, kFloat32), core::to(zero_point, kFloat32));
  return core::binary(BinaryOp::mul, centered, scale);
}

PackedInt4 pack_int4(const Tensor& q) {
  const char* op = "pack_int4";
  check_defined(q, op);
  NABLA_CHECK(q.dtype() == kInt8, DTypeError, op, ": values must be int8, got ", q.dtype());
  std::vector<int8_t> values = q.to_vector<int8_t>();
  std::vector<uint8_t> bytes((values.size() + 1) / 2, 0);
  for (size_t i = 0; i < values.size(); ++i) {
    int v = values[i];
    NABLA_CHECK(v >= -8 && v <= 7, ValueError, op, ": element ", i, " is ", v,
                ", outside int4's range [-8, 7]");
    uint8_t nibble = static_cast<uint8_t>(v) & 0x0F;
    bytes[i / 2] |= (i % 2 == 0) ? nibble : static_cast<uint8_t>(nibble << 4);
  }
  Tensor data = from_vector<uint8_t>(bytes, {static_cast<int64_t>(bytes.size())});
  return {.data = core::to(data, q.device()), .shape = q.shape()};
}

Tensor unpack_int4(const PackedInt4& packed) {
  const char* op = "unpack_int4";
  check_defined(packed.data, op);
  NABLA_CHECK(packed.data.dtype() == kUInt8, DTypeError, op, ": packed data must be uint8, got ",
              packed.data.dtype());
  const int64_t n = packed.numel();
  NABLA_CHECK(packed.data.numel() == (n + 1) / 2, ShapeError, op, ": ", n, " values (shape ",
              packed.shape, ") need ", (n + 1) / 2, " bytes, got ", packed.data.numel());
  std::vector<uint8_t> bytes = packed.data.to_vector<uint8_t>();
  std::vector<int8_t> values(n);
  for (int64_t i = 0; i < n; ++i) {
    int nibble = (i % 2 == 0) ? (bytes[i / 2] & 0x0F) : (bytes[i / 2] >> 4);
    values[i] = static_cast<int8_t>(nibble >= 8 ? nibble - 16 : nibble);
  }
  // Through a 1-d tensor, since from_vector reads an empty shape as 1-d.
  Tensor flat = from_vector<int8_t>(values, {n});
  return core::to(core::reshape(flat, packed.shape), packed.data.device());
}

}  // namespace nabla::quant
