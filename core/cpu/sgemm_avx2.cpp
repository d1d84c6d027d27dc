// sgemm's AVX2 kernel: a 6 x 16 register tile (12 accumulators of 8 lanes, of the 16 registers)
// under the blocked driver (sgemm_blocked.h), for CPUs with AVX2 and FMA but no AVX-512.
#include <immintrin.h>

#include <algorithm>

#include "core/cpu/sgemm_blocked.h"
#include "core/cpu/sgemm_kernels.h"

namespace nabla::cpu {

namespace {

// The lanes below `count` (none below 1, all above 7) as a mask for maskload and maskstore.
__attribute__((target("avx2"))) inline __m256i first_lanes(int64_t count) {
  const int n = int(std::clamp<int64_t>(count, 0, 8));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The 8 x 8 block r[i][j] -> r[j][i]: pairs, quadruples and 128-bit halves interleaved.
__attribute__((target("avx2"))) inline void transpose8(__m256 r[8]) {
  __m256 t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  __m256 u[8];
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm256_permute2f128_ps(u[j], u[j + 4], 0x20);
    r[j + 4] = _mm256_permute2f128_ps(u[j], u[j + 4], 0x31);
  }
}

// The kernel of sgemm_blocked.h's contract.
struct Avx2Kernel {
  static constexpr int64_t kMr = 6;   // rows of the register tile: 6 x 2 accumulators
  static constexpr int64_t kNr = 16;  // columns: two 8-float vectors
  static constexpr int64_t kTransposeWidth = 8;

  __attribute__((target("avx2"))) static void transpose_into_panel(const float* const* line,
                                                                   int64_t depth, float* out) {
    for (int64_t p = 0; p < depth; p += 8) {
      __m256 r[8];
      for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(line[j] + p);
      transpose8(r);
      for (int i = 0; i < 8; ++i) _mm256_storeu_ps(out + (p + i) * kNr, r[i]);
    }
  }

  __attribute__((target("avx2"))) static void copy_panel_row(const float* row, int64_t cols,
                                                             float* out) {
    if (cols == kNr) {
      _mm256_storeu_ps(out, _mm256_loadu_ps(row));
      _mm256_storeu_ps(out + 8, _mm256_loadu_ps(row + 8));
      return;
    }
    _mm256_storeu_ps(out, _mm256_maskload_ps(row, first_lanes(cols)));
    _mm256_storeu_ps(out + 8, _mm256_maskload_ps(row + 8, first_lanes(cols - 8)));
  }

  // acc = A_tile @ B_tile over kc steps, B's rows read under the masks m0, m1 when kMasked.
  template <bool kAdjacentRows, bool kMasked, class BRows>
  __attribute__((target("avx2,fma"), always_inline)) static inline void accumulate(
      int64_t kc, const float* const* a_rows, int64_t step, BRows b, __m256i m0, __m256i m1,
      __m256 acc[kMr][2]) {
    const float* row[kMr];
#pragma GCC unroll 6
    for (int64_t r = 0; r < kMr; ++r) row[r] = a_rows[r];
    const float* first = a_rows[0];
    // The loops over the tile's rows are unrolled so that the 12 accumulators live in registers.
#pragma GCC unroll 6
    for (int64_t r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t p = 0; p < kc; ++p) {
      const float* bp = b.row(p);
      const __m256 b0 = kMasked ? _mm256_maskload_ps(bp, m0) : _mm256_loadu_ps(bp);
      const __m256 b1 = kMasked ? _mm256_maskload_ps(bp + 8, m1) : _mm256_loadu_ps(bp + 8);
#pragma GCC unroll 6
      for (int64_t r = 0; r < kMr; ++r) {
        const __m256 av =
            _mm256_broadcast_ss(kAdjacentRows ? first + p * step + r : row[r] + p * step);
        acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
      }
    }
  }

  template <bool kAdjacentRows, class BRows>
  __attribute__((target("avx2,fma"))) static void tile(int64_t kc, const float* const* a_rows,
                                                       int64_t step, BRows b, float* c, int64_t ldc,
                                                       int64_t rows, int64_t cols, float alpha,
                                                       float beta) {
    const __m256i m0 = first_lanes(cols), m1 = first_lanes(cols - 8);
    __m256 acc[kMr][2];
    // Masked loads cost several times a plain one (they stall the FMAs that wait on them), so
    // only B's partial rows take them.
    if (BRows::kPadded || cols == kNr) {
      accumulate<kAdjacentRows, false>(kc, a_rows, step, b, m0, m1, acc);
    } else {
      accumulate<kAdjacentRows, true>(kc, a_rows, step, b, m0, m1, acc);
    }
    const __m256 va = _mm256_set1_ps(alpha);
#pragma GCC unroll 6
    for (int64_t r = 0; r < rows; ++r) {
      float* cr = c + r * ldc;
      __m256 v0 = acc[r][0], v1 = acc[r][1];
      if (alpha != 1) {
        v0 = _mm256_mul_ps(v0, va);
        v1 = _mm256_mul_ps(v1, va);
      }
      if (cols == kNr) {
        if (beta != 0) {
          v0 = _mm256_add_ps(v0, _mm256_loadu_ps(cr));
          v1 = _mm256_add_ps(v1, _mm256_loadu_ps(cr + 8));
        }
        _mm256_storeu_ps(cr, v0);
        _mm256_storeu_ps(cr + 8, v1);
        continue;
      }
      if (beta != 0) {
        v0 = _mm256_add_ps(v0, _mm256_maskload_ps(cr, m0));
        v1 = _mm256_add_ps(v1, _mm256_maskload_ps(cr + 8, m1));
      }
      _mm256_maskstore_ps(cr, m0, v0);
      _mm256_maskstore_ps(cr + 8, m1, v1);
    }
  }
};

}  // namespace

void sgemm_avx2(int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a,
                const GemmOperand& b, float beta, float* c, int64_t ldc) {
  blocked::sgemm<Avx2Kernel>(m, n, k, alpha, a, b, beta, c, ldc);
}

}  // namespace nabla::cpu
