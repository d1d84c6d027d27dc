// Quantization schemes and parameters: the integer range, scale and zero point, and the
// quantize/dequantize maps between float tensors and int8/uint8 (or packed int4) tensors.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "core/tensor.h"

namespace nabla::quant {

// The integer type values are quantized to. int4 is signed, [-8, 7]; it is held one value per
// int8 element until pack_int4 puts two in a byte.
enum class QDType : uint8_t { int8, uint8, int4 };

// Affine maps [min, max] onto the whole integer range with any zero point; symmetric maps
// [-a, a] with a = max(|min|, |max|) and a fixed zero point, so that weights need no
// zero-point correction in the int8 kernels.
enum class QMode : uint8_t { affine, symmetric };

const char* name(QDType dtype);
const char* name(QMode mode);

struct QScheme {
  QDType dtype = QDType::int8;
  QMode mode = QMode::affine;
  // nullopt: one scale for the whole tensor. Otherwise one scale per index along this axis
  // (negative counts from the end, resolved against each tensor).
  std::optional<int64_t> channel_axis = std::nullopt;
  // Drops one bit of the range: int8 [-64, 63], uint8 [0, 127], int4 [-4, 3]. x86 int8 kernels
  // without VNNI sum pairs of u8 * s8 products into int16, which saturates with 8-bit inputs.
  bool reduce_range = false;
  // Signed types give up their most negative value, so that the range is symmetric about 0:
  // int8 [-127, 127], int4 [-7, 7]. The int8 kernels take weights in [-127, 127], and a symmetric
  // scale is then max|w| / 127, so the largest weight of either sign is exactly representable.
  // No effect on uint8.
  bool narrow_range = false;

  int64_t qmin() const;
  int64_t qmax() const;
  bool per_channel() const { return channel_axis.has_value(); }
  bool symmetric() const { return mode == QMode::symmetric; }
  // The dtype quantize() returns: uint8 for uint8, int8 for int8 and int4.
  DType storage_dtype() const;
  // The channel axis resolved against a tensor of `ndim` dims; an IndexError naming `op` when
  // it is out of range. Only for per-channel schemes.
  int64_t axis_for(int64_t ndim, const char* op) const;
  // "int8 symmetric per-channel(axis=0)", for messages and printing.
  std::string to_string() const;

  bool operator==(const QScheme&) const = default;
};

std::ostream& operator<<(std::ostream& os, const QScheme& scheme);

// Everything quantize() needs: scale float32 and zero_point int64, both [1] (per-tensor) or [C]
// (per-channel, C the size of the tensor's channel axis).
struct QParams {
  Tensor scale;
  Tensor zero_point;
  QScheme scheme = {};

  int64_t channels() const { return scale.numel(); }
  // Checks the dtypes, that the sizes agree with each other and with the scheme, and that every
  // scale is positive and finite and every zero point lies in [qmin, qmax]; `op` names the caller.
  void validate(const char* op) const;
};

// Scale and zero point for ranges [min, max] (float tensors of 1 element, or C for a per-channel
// scheme), following PyTorch's observers:
//   the range is widened to include 0, so that 0 is exactly representable (padding, ReLU);
//   affine:    scale = (max - min) / (qmax - qmin),  zero_point = qmin - round(min / scale),
//              clamped to [qmin, qmax];
//   symmetric: scale = max(-min, max) / ((qmax - qmin) / 2), zero_point 0 for signed dtypes and
//              the mid-point (qmin + qmax + 1) / 2 for uint8 (128, or 64 with reduce_range)
//              (with narrow_range, int8's divisor is 127, not 127.5);
//   scale is at least float32's epsilon, so that an all-zero range stays usable.
// A range with min > max or a non-finite bound is a ValueError.
QParams choose_qparams(const Tensor& min, const Tensor& max, const QScheme& scheme);

// The same for one range, on the host: what searches over candidate ranges evaluate.
struct ScalarQParams {
  float scale = 1;
  int64_t zero_point = 0;
};
ScalarQParams choose_qparams(float min, float max, const QScheme& scheme);

// The shape scale and zero_point take to broadcast against x: all ones (x.dim() of them), with
// `channels` on the channel axis of a per-channel scheme, whose size must match; `op` names the
// caller in the error.
Shape qparams_broadcast_shape(const Tensor& x, const QScheme& scheme, int64_t channels,
                              const char* op);

// round(x / scale) + zero_point, rounding half to even (std::nearbyint), clamped to
// [qmin, qmax]; per-channel schemes broadcast scale along their axis. x is float32 or float64;
// the result has scheme.storage_dtype().
Tensor quantize(const Tensor& x, const QParams& qparams);
// (q - zero_point) * scale as float32; q must have the scheme's storage dtype.
Tensor dequantize(const Tensor& q, const QParams& qparams);

// Two int4 values per byte: element 2i in the low nibble, 2i + 1 in the high one, each in two's
// complement. `shape` keeps the element count, so that an odd count (whose last high nibble is
// padding) unpacks to the same tensor.
struct PackedInt4 {
  Tensor data;  // uint8 [ceil(numel / 2)]
  Shape shape;
  int64_t numel() const { return nabla::numel(shape); }
};

// q: int8 with values in [-8, 7] (quantize() with an int4 scheme gives one).
PackedInt4 pack_int4(const Tensor& q);
// The int8 tensor of `packed.shape` that pack_int4 was given.
Tensor unpack_int4(const PackedInt4& packed);

}  // namespace nabla::quant
