// pool_avx512.cpp's 2x2 max pooling for AVX2: 8 outputs per step, from two rows of 16 inputs split
// into their even and odd columns; the running maximum and its offset in the window are picked
// by blends instead of branches.
#include <immintrin.h>

#include <algorithm>

#include "core/cpu/avx2_lanes.h"
#include "core/cpu/pool_kernels.h"

namespace nabla::cpu {

namespace {

// Takes v (found at window offset `at`) where it beats the running maximum: larger, or a NaN
// against a number.
__attribute__((target("avx2"), always_inline)) inline void pick(__m256 v, __m256i at, __m256& best,
                                                                __m256i& offset) {
  const __m256 nan_v = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
  const __m256 nan_best = _mm256_cmp_ps(best, best, _CMP_UNORD_Q);
  const __m256 take =
      _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ), _mm256_andnot_ps(nan_best, nan_v));
  best = _mm256_blendv_ps(best, v, take);
  offset = _mm256_castps_si256(
      _mm256_blendv_ps(_mm256_castsi256_ps(offset), _mm256_castsi256_ps(at), take));
}

}  // namespace

__attribute__((target("avx2"))) void max_pool2x2_avx2(const float* src, int64_t w, int64_t oh,
                                                      int64_t ow, float* out, int64_t* indices) {
  // Lane l's window starts at input column 2l of the step's first window.
  const __m256i starts = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  // A window's candidates lie at these offsets from its top-left input.
  const __m256i right = _mm256_set1_epi32(1), below = _mm256_set1_epi32(int32_t(w)),
                below_right = _mm256_set1_epi32(int32_t(w + 1));
  for (int64_t oi = 0; oi < oh; ++oi) {
    const float* r0 = src + 2 * oi * w;
    const float* r1 = r0 + w;
    for (int64_t oj = 0; oj < ow; oj += 8) {
      const int64_t count = std::min<int64_t>(8, ow - oj);
      const float* t = r0 + 2 * oj;
      const float* b = r1 + 2 * oj;
      const __m256 t0 = load_first(t, 2 * count), t1 = load_first(t + 8, 2 * count - 8);
      const __m256 b0 = load_first(b, 2 * count), b1 = load_first(b + 8, 2 * count - 8);
      __m256 best = split_columns(t0, t1, false);
      __m256i offset = _mm256_setzero_si256();
      pick(split_columns(t0, t1, true), right, best, offset);
      pick(split_columns(b0, b1, false), below, best, offset);
      pick(split_columns(b0, b1, true), below_right, best, offset);
      // Flat index: the window's top-left input (2 * oi * w + 2 * oj + 2 * lane) plus the offset.
      const __m256i at = _mm256_add_epi32(
          _mm256_add_epi32(starts, _mm256_set1_epi32(int32_t(2 * oi * w + 2 * oj))), offset);
      const __m256i low = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(at));
      const __m256i high = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(at, 1));
      float* o = out + oi * ow + oj;
      long long* idx = reinterpret_cast<long long*>(indices + oi * ow + oj);
      if (count == 8) {
        _mm256_storeu_ps(o, best);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx), low);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + 4), high);
        continue;
      }
      _mm256_maskstore_ps(o, first_lanes(count), best);
      // 64-bit lanes k < count: the 32-bit mask's lanes 2k and 2k + 1.
      _mm256_maskstore_epi64(idx, first_lanes(2 * count), low);
      _mm256_maskstore_epi64(idx + 4, first_lanes(2 * count - 8), high);
    }
  }
}

}  // namespace nabla::cpu
