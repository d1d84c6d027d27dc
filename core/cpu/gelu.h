// GELU and its derivative for the CPU kernels, written branch-free so that loops over them
// vectorize (with AVX2, given -fno-trapping-math: core/CMakeLists.txt): float uses its own exp
// and erfc (libm's are scalar calls), double uses libm's.
// Private to core/cpu.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <numbers>

namespace nabla::cpu {

inline constexpr double kInvSqrt2 = 0.5 * std::numbers::sqrt2;

// e^x within 2 ulp for x in [-87, 88] (clamped there; a NaN stays NaN): x = n ln 2 + r with
// |r| <= ln 2 / 2, e^r by its Taylor polynomial to degree 7, and 2^n put into the exponent bits.
[[gnu::always_inline]] inline float exp_branch_free(float x) {
  // Comparisons rather than fmin/fmax, whose NaN rules keep the compiler from vectorizing.
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  // Rounded to the nearest integer by adding and removing 1.5 * 2^23 (floorf is a library call
  // unless the compiler may ignore floating-point exceptions).
  constexpr float kRound = 12582912.0f;
  const float n = (x * std::numbers::log2e_v<float> + kRound) - kRound;
  // ln 2 in two parts, so that n * ln2_high is exact and r keeps its low bits.
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return p * std::bit_cast<float>(bits);
}

// The standard normal CDF Phi(x) and density phi(x). float: erfc by the Chebyshev fit of
// Numerical Recipes (fractional error below 1.2e-7, so Phi is within 1e-7 of the true value).
template <class T>
struct Normal {
  T cdf, pdf;
};

[[gnu::always_inline]] inline Normal<float> normal(float x) {
  const float z = std::fabs(x) * float(kInvSqrt2);
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  const float half_tail = 0.5f * t * exp_branch_free(p - z * z);  // erfc(z) / 2
  const float pdf =
      exp_branch_free(-0.5f * x * x) * (std::numbers::inv_sqrtpi_v<float> * float(kInvSqrt2));
  return {x >= 0 ? 1.0f - half_tail : half_tail, pdf};
}

inline Normal<double> normal(double x) {
  return {0.5 * std::erfc(-x * kInvSqrt2),
          std::exp(-0.5 * x * x) * std::numbers::inv_sqrtpi * kInvSqrt2};
}

// GELU(x) = x Phi(x).
template <class T>
[[gnu::always_inline]] inline T gelu(T x) {
  return x * normal(x).cdf;
}

// grad * GELU'(x), GELU'(x) = Phi(x) + x phi(x).
template <class T>
[[gnu::always_inline]] inline T gelu_backward(T x, T grad) {
  const Normal<T> n = normal(x);
  return grad * (n.cdf + x * n.pdf);
}

}  // namespace nabla::cpu
