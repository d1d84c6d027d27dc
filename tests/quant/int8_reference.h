// Plain-loop references for the int8 kernels' tests: integer products and convolutions, the
// requantization formula as written in int8_requant.h, and seeded random operands.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/backend.h"
#include "core/creation.h"
#include "quant/int8_dispatch.h"

namespace nabla::quant::testing {

// Values in [lo, hi]; with `extremes`, only lo, hi and the middle, which find saturation and
// overflow.
template <class T>
std::vector<T> random_values(size_t count, int lo, int hi, uint32_t seed, bool extremes = false) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> any(lo, hi), pick(0, 2);
  std::vector<T> v(count);
  for (T& x : v) {
    if (!extremes) {
      x = static_cast<T>(any(gen));
      continue;
    }
    const int which = pick(gen);
    x = static_cast<T>(which == 0 ? lo : which == 1 ? hi : (lo + hi) / 2);
  }
  return v;
}

// out[m][n] = sum_k (x[m][k] - zp) * w[n][k].
inline std::vector<int32_t> matmul_reference(const std::vector<uint8_t>& x,
                                             const std::vector<int8_t>& w, int64_t m, int64_t n,
                                             int64_t k, int64_t zp) {
  std::vector<int32_t> out(size_t(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t sum = 0;
      for (int64_t p = 0; p < k; ++p)
        sum += (int64_t(x[size_t(i * k + p)]) - zp) * int64_t(w[size_t(j * k + p)]);
      out[size_t(i * n + j)] = static_cast<int32_t>(sum);
    }
  return out;
}

// The direct convolution: x [N, C, H, W], w [O, C / groups, KH, KW], padding reading zp.
inline std::vector<int32_t> conv_reference(const std::vector<uint8_t>& x,
                                           const std::vector<int8_t>& w, const Shape& xs,
                                           const Shape& ws, const Conv2dParams& p, int64_t zp,
                                           int64_t& oh, int64_t& ow) {
  const int64_t n = xs[0], c = xs[1], h = xs[2], wd = xs[3];
  const int64_t o = ws[0], cg = ws[1], kh = ws[2], kw = ws[3], og = o / p.groups;
  oh = (h + 2 * p.padding[0] - p.dilation[0] * (kh - 1) - 1) / p.stride[0] + 1;
  ow = (wd + 2 * p.padding[1] - p.dilation[1] * (kw - 1) - 1) / p.stride[1] + 1;
  std::vector<int32_t> out(size_t(n * o * oh * ow));
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oc = 0; oc < o; ++oc)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          int64_t sum = 0;
          const int64_t g = oc / og;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t ki = 0; ki < kh; ++ki)
              for (int64_t kj = 0; kj < kw; ++kj) {
                const int64_t ii = i * p.stride[0] - p.padding[0] + ki * p.dilation[0];
                const int64_t jj = j * p.stride[1] - p.padding[1] + kj * p.dilation[1];
                int64_t v = zp;
                if (ii >= 0 && ii < h && jj >= 0 && jj < wd)
                  v = x[size_t(((b * c + g * cg + ci) * h + ii) * wd + jj)];
                sum += (v - zp) * int64_t(w[size_t(((oc * cg + ci) * kh + ki) * kw + kj)]);
              }
          out[size_t(((b * o + oc) * oh + i) * ow + j)] = static_cast<int32_t>(sum);
        }
  return out;
}

// Requantization as int8_requant.h states it: round half to even, add the zero point, clamp.
inline uint8_t requantize_reference(int32_t acc, float multiplier, float offset, int64_t zp,
                                    int64_t lo, int64_t hi) {
  const float v = std::fma(static_cast<float>(acc), multiplier, offset);
  const double q = std::nearbyint(double(v)) + double(zp);
  return static_cast<uint8_t>(std::clamp<double>(q, double(lo), double(hi)));
}

// The kernels a test goes through, each with whether it needs 7-bit activations.
inline std::vector<Int8Kernel> kernels_to_test() { return available_int8_kernels(); }

}  // namespace nabla::quant::testing
