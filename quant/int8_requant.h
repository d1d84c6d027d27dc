// What an int8 product's output becomes: uint8 with a scale and zero point (the next quantized
// layer's input), or dequantized float32 (the last layer, dynamic quantization).
#pragma once

#include <cstdint>

namespace nabla::quant {

// uint8:   out = clamp(nearbyint(acc * multiplier[n] + bias[n] / scale) + zero_point, lo, qmax),
//          multiplier[n] = x_scale * w_scale[n] / scale, lo = qmin, or max(qmin, zero_point)
//          with relu (a ReLU fused into the product: 0.0 quantizes to zero_point);
// float32: out = acc * (x_scale * w_scale[n]) + bias[n], then max(., 0) with relu.
// acc is the exact int32 sum over k of (x - x_zero_point) * w. [qmin, qmax] may be narrower than
// [0, 255], e.g. [0, 127] for a next layer quantized with reduce_range.
struct Requantization {
  bool float_output = false;
  float scale = 1;
  int64_t zero_point = 0;
  int64_t qmin = 0, qmax = 255;
  bool relu = false;

  static Requantization to_uint8(float scale, int64_t zero_point, bool relu = false,
                                 int64_t qmin = 0, int64_t qmax = 255) {
    return {.float_output = false,
            .scale = scale,
            .zero_point = zero_point,
            .qmin = qmin,
            .qmax = qmax,
            .relu = relu};
  }
  static Requantization to_float(bool relu = false) { return {.float_output = true, .relu = relu}; }

  // A ValueError naming `op` unless scale is positive and finite and
  // 0 <= qmin <= zero_point <= qmax <= 255 (uint8 output only).
  void validate(const char* op) const;
};

}  // namespace nabla::quant
