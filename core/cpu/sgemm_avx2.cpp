// sgemm's AVX2 kernel: a 4 x 24 register tile (12 accumulators of 8 lanes, of the 16 registers)
// under the blocked driver (sgemm_blocked.h), for CPUs with AVX2 and FMA but no AVX-512. Of the
// tiles with 12 accumulators, 4 x 24 loads least per FMA after 6 x 16 and divides the channel
// counts of convolutions (6 x 16 leaves a third of a tile over on 16 channels); on Zen 3 it
// measured 1.1-1.3x faster than 6 x 16 and 2x faster than 3 x 32.
#include <immintrin.h>

#include <algorithm>

#include "core/cpu/avx2_lanes.h"
#include "core/cpu/sgemm_blocked.h"
#include "core/cpu/sgemm_kernels.h"

namespace nabla::cpu {

namespace {

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
  static constexpr int64_t kMr = 4;       // rows of the register tile
  static constexpr int64_t kVectors = 3;  // 8-float vectors across its columns
  static constexpr int64_t kNr = 8 * kVectors;
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
    for (int64_t v = 0; v < kVectors; ++v)
      _mm256_storeu_ps(out + 8 * v, load_first(row + 8 * v, cols - 8 * v));
  }

  // acc = A_tile @ B_tile over kc steps, B's rows read under the masks when kMasked.
  template <bool kAdjacentRows, bool kMasked, class BRows>
  __attribute__((target("avx2,fma"), always_inline)) static inline void accumulate(
      int64_t kc, const float* const* a_rows, int64_t step, BRows b, const __m256i mask[kVectors],
      __m256 acc[kMr][kVectors]) {
    const float* row[kMr];
#pragma GCC unroll 8
    for (int64_t r = 0; r < kMr; ++r) row[r] = a_rows[r];
    const float* first = a_rows[0];
    // The loops over the tile are unrolled so that the accumulators live in registers, and the
    // steps too, which keeps the loop's own instructions off the FMAs' way.
#pragma GCC unroll 8
    for (int64_t r = 0; r < kMr; ++r)
#pragma GCC unroll 4
      for (int64_t v = 0; v < kVectors; ++v) acc[r][v] = _mm256_setzero_ps();
#pragma GCC unroll 4
    for (int64_t p = 0; p < kc; ++p) {
      const float* bp = b.row(p);
      __m256 bv[kVectors];
#pragma GCC unroll 4
      for (int64_t v = 0; v < kVectors; ++v)
        bv[v] = kMasked ? _mm256_maskload_ps(bp + 8 * v, mask[v]) : _mm256_loadu_ps(bp + 8 * v);
#pragma GCC unroll 8
      for (int64_t r = 0; r < kMr; ++r) {
        const __m256 av =
            _mm256_broadcast_ss(kAdjacentRows ? first + p * step + r : row[r] + p * step);
#pragma GCC unroll 4
        for (int64_t v = 0; v < kVectors; ++v) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
      }
    }
  }

  template <bool kAdjacentRows, class BRows>
  __attribute__((target("avx2,fma"))) static void tile(int64_t kc, const float* const* a_rows,
                                                       int64_t step, BRows b, float* c, int64_t ldc,
                                                       int64_t rows, int64_t cols, float alpha,
                                                       float beta) {
    __m256i mask[kVectors];
    for (int64_t v = 0; v < kVectors; ++v) mask[v] = first_lanes(cols - 8 * v);
    __m256 acc[kMr][kVectors];
    // Masked loads cost several times a plain one (they stall the FMAs that wait on them), so
    // only B's partial rows take them.
    if (BRows::kPadded || cols == kNr) {
      accumulate<kAdjacentRows, false>(kc, a_rows, step, b, mask, acc);
    } else {
      accumulate<kAdjacentRows, true>(kc, a_rows, step, b, mask, acc);
    }
    const __m256 va = _mm256_set1_ps(alpha);
#pragma GCC unroll 8
    for (int64_t r = 0; r < rows; ++r) {
      float* cr = c + r * ldc;
#pragma GCC unroll 4
      for (int64_t v = 0; v < kVectors; ++v) {
        __m256 out = alpha != 1 ? _mm256_mul_ps(acc[r][v], va) : acc[r][v];
        if (cols - 8 * v >= 8) {
          if (beta != 0) out = _mm256_add_ps(out, _mm256_loadu_ps(cr + 8 * v));
          _mm256_storeu_ps(cr + 8 * v, out);
        } else if (cols > 8 * v) {
          if (beta != 0) out = _mm256_add_ps(out, _mm256_maskload_ps(cr + 8 * v, mask[v]));
          _mm256_maskstore_ps(cr + 8 * v, mask[v], out);
        }
      }
    }
  }
};

}  // namespace

void sgemm_avx2(int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a,
                const GemmOperand& b, float beta, float* c, int64_t ldc) {
  blocked::sgemm<Avx2Kernel>(m, n, k, alpha, a, b, beta, c, ldc);
}

}  // namespace nabla::cpu
