// Lane masks and permutations shared by the AVX-512 kernels (pooling, Winograd, phase planes,
// the GEMM tile).
// Private to core/cpu; include only from files whose functions carry target("avx512f").
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace nabla::cpu {

// The lowest `count` bits of a 16-lane mask set, for any count (none below 1, all above 15).
inline __mmask16 low_bits(int64_t count) {
  if (count <= 0) return 0;
  return count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1);
}

// Permutations picking the even (or odd) lanes of two vectors, the first's then the second's.
__attribute__((target("avx512f"))) inline __m512i even_lanes() {
  return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}
__attribute__((target("avx512f"))) inline __m512i odd_lanes() {
  return _mm512_add_epi32(even_lanes(), _mm512_set1_epi32(1));
}

// The even (or odd, from lane 1) values of the 32 floats at src, of which `count` are read.
__attribute__((target("avx512f"))) inline __m512 every_other(const float* src, int64_t count,
                                                             bool odd) {
  const __m512 lo = _mm512_maskz_loadu_ps(low_bits(count), src);
  const __m512 hi = _mm512_maskz_loadu_ps(low_bits(count - 16), src + 16);
  return _mm512_permutex2var_ps(lo, odd ? odd_lanes() : even_lanes(), hi);
}

}  // namespace nabla::cpu
