// Lane masks, partial loads and stores, and the even/odd split shared by the AVX2 kernels (the
// GEMM tile, Winograd's transforms, pooling): avx512_lanes.h's counterpart for 8-lane vectors.
// Private to core/cpu; include only from files whose functions carry target("avx2").
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace nabla::cpu {

// The lanes below `count` (none below 1, all above 7) as a mask for maskload and maskstore.
__attribute__((target("avx2"), always_inline)) inline __m256i first_lanes(int64_t count) {
  const int n = int(std::clamp<int64_t>(count, 0, 8));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The first `count` floats at src, zeros after. A masked load costs several plain ones (it
// stalls what waits on it), so only a partial vector takes one.
__attribute__((target("avx2"), always_inline)) inline __m256 load_first(const float* src,
                                                                        int64_t count) {
  if (count >= 8) return _mm256_loadu_ps(src);
  return count > 0 ? _mm256_maskload_ps(src, first_lanes(count)) : _mm256_setzero_ps();
}

// Stores the first `count` lanes of v at dst.
__attribute__((target("avx2"), always_inline)) inline void store_first(float* dst, int64_t count,
                                                                       __m256 v) {
  if (count >= 8) {
    _mm256_storeu_ps(dst, v);
  } else if (count > 0) {
    _mm256_maskstore_ps(dst, first_lanes(count), v);
  }
}

// The even (or odd) values of the 16 floats lo, hi, in order: [lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6],
// then the 64-bit pairs reordered to lo's before hi's.
__attribute__((target("avx2"), always_inline)) inline __m256 split_columns(__m256 lo, __m256 hi,
                                                                           bool odd) {
  const __m256 pairs = odd ? _mm256_shuffle_ps(lo, hi, 0xDD) : _mm256_shuffle_ps(lo, hi, 0x88);
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(pairs), 0xD8));
}

// The even (or odd) values of the 16 floats at src, of which `count` are read.
__attribute__((target("avx2"), always_inline)) inline __m256 every_other(const float* src,
                                                                         int64_t count, bool odd) {
  return split_columns(load_first(src, count), load_first(src + 8, count - 8), odd);
}

}  // namespace nabla::cpu
