// The fused output step of the int8 kernels for one element, in scalar code: the reference that
// the vector kernels match bit for bit (Epilogue in int8_kernels.h). Private to quant/.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "quant/kernels/int8_kernels.h"

namespace nabla::quant::kernels {

// The comparisons are written as the vector instructions compute them (maxps(a, b) is
// a > b ? a : b, minps(a, b) is a < b ? a : b), so that even a NaN bias gives the same bits.
// std::fma is one rounding, like vfmadd, with or without hardware FMA; nearbyint rounds half to
// even in the default rounding mode, like vcvtps2dq.
inline float scalar_affine(int32_t c, float multiplier, float offset) {
  return std::fma(static_cast<float>(c), multiplier, offset);
}

inline uint8_t scalar_requantize(int32_t c, float multiplier, float offset, const Epilogue& e) {
  float v = scalar_affine(c, multiplier, offset);
  v = v > e.lo ? v : e.lo;
  v = v < e.hi ? v : e.hi;
  return static_cast<uint8_t>(static_cast<int32_t>(std::nearbyint(v)) + e.zero_point);
}

inline float scalar_dequantize(int32_t c, float multiplier, float offset, const Epilogue& e) {
  const float v = scalar_affine(c, multiplier, offset);
  return e.relu ? (v > 0.0f ? v : 0.0f) : v;
}

// Stores the exact sum c of element (r, lane), whose channel is `channel`.
inline void scalar_output(const Epilogue& e, int64_t r, int64_t lane, int64_t channel,
                          int32_t raw) {
  const int32_t c = raw - e.correction[channel];
  const int64_t at = r * e.ld + lane;
  switch (e.kind) {
    case Epilogue::Kind::int32:
      static_cast<int32_t*>(e.out)[at] = c;
      return;
    case Epilogue::Kind::uint8:
      static_cast<uint8_t*>(e.out)[at] =
          scalar_requantize(c, e.multiplier[channel], e.offset[channel], e);
      return;
    case Epilogue::Kind::float32:
      static_cast<float*>(e.out)[at] =
          scalar_dequantize(c, e.multiplier[channel], e.offset[channel], e);
      return;
  }
}

// A 32-bit group read from bytes of any alignment.
inline uint32_t load_group(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace nabla::quant::kernels
