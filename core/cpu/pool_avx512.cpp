// 16 outputs per step: two rows of 32 inputs are split into their even and odd columns, so that
// each of a window's four candidates is one vector, and the running maximum and its offset in
// the window are picked by masks. The scalar loop in pool.cpp compiles to branches on the
// comparisons, which random data mispredicts half the time.
#include "core/cpu/pool_kernels.h"

#include <immintrin.h>

#include <algorithm>

#include "core/cpu/avx512_lanes.h"

namespace nabla::cpu {

namespace {

// Where candidate v beats best: larger, or a NaN against a number.
__attribute__((target("avx512f"))) inline __mmask16 beats(__m512 v, __m512 best) {
  const __mmask16 nan_v = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  const __mmask16 nan_best = _mm512_cmp_ps_mask(best, best, _CMP_UNORD_Q);
  return _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | (nan_v & ~nan_best);
}

// Takes v (found at window offset `at`) where it beats the running maximum.
__attribute__((target("avx512f"))) inline void pick(__m512 v, __m512i at, __m512& best,
                                                    __m512i& offset) {
  const __mmask16 take = beats(v, best);
  best = _mm512_mask_mov_ps(best, take, v);
  offset = _mm512_mask_mov_epi32(offset, take, at);
}

}  // namespace

__attribute__((target("avx512f"))) void max_pool2x2_avx512(const float* src, int64_t w, int64_t oh,
                                                           int64_t ow, float* out,
                                                           int64_t* indices) {
  // Lane l takes input column 2l (even) or 2l + 1 (odd) of the 32 loaded; 2l is also the lane's
  // window start relative to the first window of the step.
  const __m512i even = even_lanes(), odd = odd_lanes();
  // A window's candidates lie at these offsets from its top-left input.
  const __m512i right = _mm512_set1_epi32(1), below = _mm512_set1_epi32(int32_t(w)),
                below_right = _mm512_set1_epi32(int32_t(w + 1));
  for (int64_t oi = 0; oi < oh; ++oi) {
    const float* r0 = src + 2 * oi * w;
    const float* r1 = r0 + w;
    for (int64_t oj = 0; oj < ow; oj += 16) {
      const int64_t count = std::min<int64_t>(16, ow - oj);
      const __mmask16 first = low_bits(2 * count), second = low_bits(2 * count - 16);
      const float* t = r0 + 2 * oj;
      const float* b = r1 + 2 * oj;
      const __m512 t0 = _mm512_maskz_loadu_ps(first, t), t1 = _mm512_maskz_loadu_ps(second, t + 16);
      const __m512 b0 = _mm512_maskz_loadu_ps(first, b), b1 = _mm512_maskz_loadu_ps(second, b + 16);
      __m512 best = _mm512_permutex2var_ps(t0, even, t1);
      __m512i offset = _mm512_setzero_si512();
      pick(_mm512_permutex2var_ps(t0, odd, t1), right, best, offset);
      pick(_mm512_permutex2var_ps(b0, even, b1), below, best, offset);
      pick(_mm512_permutex2var_ps(b0, odd, b1), below_right, best, offset);
      const __mmask16 valid = low_bits(count);
      _mm512_mask_storeu_ps(out + oi * ow + oj, valid, best);
      // Flat index: the window's top-left input (2 * oi * w + 2 * oj + 2 * lane) plus the offset.
      const __m512i at = _mm512_add_epi32(
          _mm512_add_epi32(even, _mm512_set1_epi32(int32_t(2 * oi * w + 2 * oj))), offset);
      // (The zero-masking forms: GCC 12 warns that the plain ones read an undefined vector.)
      const __m256i low = _mm512_maskz_extracti64x4_epi64(0xF, at, 0);
      const __m256i high = _mm512_maskz_extracti64x4_epi64(0xF, at, 1);
      int64_t* idx = indices + oi * ow + oj;
      _mm512_mask_storeu_epi64(idx, __mmask8(valid), _mm512_maskz_cvtepi32_epi64(0xFF, low));
      _mm512_mask_storeu_epi64(idx + 8, __mmask8(valid >> 8),
                               _mm512_maskz_cvtepi32_epi64(0xFF, high));
    }
  }
}

}  // namespace nabla::cpu
