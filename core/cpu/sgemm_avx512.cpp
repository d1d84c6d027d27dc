// sgemm's AVX-512 kernel: an 8 x 32 register tile (16 accumulators of 16 lanes) under the blocked
// driver (sgemm_blocked.h), and the dot-product form (sgemm_dot_avx512.cpp) for products with
// few columns and a long depth.
#include <immintrin.h>

#include "core/cpu/avx512_lanes.h"
#include "core/cpu/sgemm_blocked.h"
#include "core/cpu/sgemm_dot_avx512.h"
#include "core/cpu/sgemm_kernels.h"

namespace nabla::cpu {

namespace {

// The 16 x 16 block r[i][j] -> r[j][i]: pairs, quadruples and 128-bit lanes interleaved (the
// maskz forms, since GCC 12 warns that the plain ones read an uninitialized vector).
__attribute__((target("avx512f"))) inline void transpose16(__m512 r[16]) {
  const __mmask16 all = 0xFFFF;
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_maskz_unpacklo_ps(all, r[i], r[i + 1]);
    t[i + 1] = _mm512_maskz_unpackhi_ps(all, r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_maskz_shuffle_ps(all, t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_maskz_shuffle_ps(all, t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm512_maskz_shuffle_ps(all, t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_maskz_shuffle_ps(all, t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 16; i += 8) {
    for (int j = 0; j < 4; ++j) {
      t[i + j] = _mm512_maskz_shuffle_f32x4(all, r[i + j], r[i + j + 4], 0x88);
      t[i + j + 4] = _mm512_maskz_shuffle_f32x4(all, r[i + j], r[i + j + 4], 0xDD);
    }
  }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_maskz_shuffle_f32x4(all, t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_maskz_shuffle_f32x4(all, t[j], t[j + 8], 0xDD);
  }
}

// The kernel of sgemm_blocked.h's contract.
struct Avx512Kernel {
  static constexpr int64_t kMr = 8;   // rows of the register tile: 8 x 2 accumulators
  static constexpr int64_t kNr = 32;  // columns: two 16-float vectors
  static constexpr int64_t kTransposeWidth = 16;

  __attribute__((target("avx512f"))) static void transpose_into_panel(const float* const* line,
                                                                      int64_t depth, float* out) {
    for (int64_t p = 0; p < depth; p += 16) {
      __m512 r[16];
      for (int j = 0; j < 16; ++j) r[j] = _mm512_loadu_ps(line[j] + p);
      transpose16(r);
      for (int i = 0; i < 16; ++i) _mm512_storeu_ps(out + (p + i) * kNr, r[i]);
    }
  }

  // Inline masked moves, since a library call per row of 32 floats cost more than the copy.
  __attribute__((target("avx512f"))) static void copy_panel_row(const float* row, int64_t cols,
                                                                float* out) {
    _mm512_storeu_ps(out, _mm512_maskz_loadu_ps(low_bits(cols), row));
    _mm512_storeu_ps(out + 16, _mm512_maskz_loadu_ps(low_bits(cols - 16), row + 16));
  }

  // The kMr rows of A's tile are few enough for the prefetchers to follow; with kAdjacentRows one
  // pointer reaches them all, where kMr separate row pointers leave too few registers for the
  // loop's own state.
  template <bool kAdjacentRows, class BRows>
  __attribute__((target("avx512f"))) static void tile(int64_t kc, const float* const* a_rows,
                                                      int64_t step, BRows b, float* c, int64_t ldc,
                                                      int64_t rows, int64_t cols, float alpha,
                                                      float beta) {
    const __mmask16 m0 = low_bits(cols), m1 = low_bits(cols - 16);
    const float* row[kMr];
#pragma GCC unroll 8
    for (int64_t r = 0; r < kMr; ++r) row[r] = a_rows[r];
    const float* first = a_rows[0];
    // The loops over the tile's rows are unrolled so that the 16 accumulators live in registers.
    __m512 acc[kMr][2];
#pragma GCC unroll 8
    for (int64_t r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int64_t p = 0; p < kc; ++p) {
      const float* bp = b.row(p);
      const __m512 b0 = _mm512_maskz_loadu_ps(m0, bp), b1 = _mm512_maskz_loadu_ps(m1, bp + 16);
#pragma GCC unroll 8
      for (int64_t r = 0; r < kMr; ++r) {
        const __m512 av = _mm512_set1_ps(kAdjacentRows ? first[p * step + r] : row[r][p * step]);
        acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
      }
    }
    const __m512 va = _mm512_set1_ps(alpha);
#pragma GCC unroll 8
    for (int64_t r = 0; r < rows; ++r) {
      float* cr = c + r * ldc;
      __m512 v0 = acc[r][0], v1 = acc[r][1];
      if (alpha != 1) {
        v0 = _mm512_mul_ps(v0, va);
        v1 = _mm512_mul_ps(v1, va);
      }
      if (beta != 0) {
        v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));
        v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr + 16));
      }
      _mm512_mask_storeu_ps(cr, m0, v0);
      _mm512_mask_storeu_ps(cr + 16, m1, v1);
    }
  }
};

}  // namespace

void sgemm_avx512(int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a,
                  const GemmOperand& b, float beta, float* c, int64_t ldc) {
  // With few columns, the panels would be mostly zero padding; a long depth pays for the dot
  // products' sums across lanes.
  if (b.trans && !a.trans && n < Avx512Kernel::kNr && k >= blocked::kKc) {
    sgemm_dot_avx512(m, n, k, alpha, a, b, beta, c, ldc);
    return;
  }
  blocked::sgemm<Avx512Kernel>(m, n, k, alpha, a, b, beta, c, ldc);
}

}  // namespace nabla::cpu
