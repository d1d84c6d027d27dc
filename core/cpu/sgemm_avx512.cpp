// nabla's own single-threaded float32 GEMM for CPUs with AVX-512, in the blocked form of Goto
// and BLIS: B is packed into panels of kNr columns, and a kMr x kNr register tile of C
// accumulates over a block of kKc products, reading A in place (packing A cost more than it saved
// on the narrow products of convolutions). Compiled for
// AVX-512 per function, so the rest of the build stays portable; the caller checks the CPU first.
#include "core/cpu/sgemm_avx512.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

namespace nabla::cpu {

namespace {

constexpr int64_t kMr = 8;     // rows of the register tile: 8 x 2 accumulators
constexpr int64_t kNr = 32;    // columns: two 16-float vectors
constexpr int64_t kKc = 256;   // depth of a block: a B panel (kKc x kNr, 32 KiB) stays in L1
constexpr int64_t kMc = 128;   // rows of A per block (kMc x kKc, 128 KiB) stay in L2
constexpr int64_t kNc = 2048;  // columns of B per packed block
constexpr int64_t kMaxUnpackedRows = 32;  // see sgemm_avx512

// Element (i, j) of op(X) for a row-major X with leading dimension ld.
inline float at(const float* x, int64_t ld, bool trans, int64_t i, int64_t j) {
  return trans ? x[j * ld + i] : x[i * ld + j];
}

// The last rows of A, fewer than kMr, as one zero-padded panel stored depth-major (kMr values per
// step): the tile then reads them like kMr full rows.
void pack_a_edge(const float* a, int64_t lda, bool trans, int64_t i0, int64_t rows, int64_t p0,
                 int64_t kc, float* out) {
  for (int64_t p = 0; p < kc; ++p, out += kMr) {
    for (int64_t r = 0; r < rows; ++r) out[r] = at(a, lda, trans, i0 + r, p0 + p);
    for (int64_t r = rows; r < kMr; ++r) out[r] = 0;
  }
}

// B's depth [p0, p0 + kc) and columns [j0, j0 + nc) as panels of kNr columns, each stored
// depth-major (kNr values per step), zero-padded to whole panels.
void pack_b(const float* b, int64_t ldb, bool trans, int64_t p0, int64_t kc, int64_t j0, int64_t nc,
            float* out) {
  for (int64_t panel = 0; panel < nc; panel += kNr) {
    const int64_t cols = std::min(kNr, nc - panel);
    if (trans) {
      // Column j of op(B) is row j of B: read it along its length, write it with stride kNr.
      if (cols < kNr) std::fill(out, out + kc * kNr, 0.0f);
      for (int64_t j = 0; j < cols; ++j) {
        const float* row = b + (j0 + panel + j) * ldb + p0;
        for (int64_t p = 0; p < kc; ++p) out[p * kNr + j] = row[p];
      }
      out += kc * kNr;
      continue;
    }
    for (int64_t p = 0; p < kc; ++p) {
      const float* row = b + (p0 + p) * ldb + j0 + panel;
      std::copy_n(row, cols, out);
      std::fill(out + cols, out + kNr, 0.0f);
      out += kNr;
    }
  }
}

// C[rows, cols] (rows <= kMr, cols <= kNr) = alpha * A_tile @ B_tile + beta * C, reading C only
// when beta is 1 (so that C may hold garbage otherwise). A is read in place: row r, step p of the
// tile is a[r * row_stride + p * step], which covers A, its transpose and a packed edge panel;
// the kMr rows are few enough for the prefetchers to follow. Step p of B's tile is the `cols`
// values at b + p * b_stride: a packed panel (b_stride kNr) or B itself.
__attribute__((target("avx512f"))) void tile(int64_t kc, const float* a, int64_t row_stride,
                                             int64_t step, const float* b, int64_t b_stride,
                                             float* c, int64_t ldc, int64_t rows, int64_t cols,
                                             float alpha, float beta) {
  const __mmask16 m0 = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
  const __mmask16 m1 = cols >= 32   ? __mmask16(0xFFFF)
                       : cols <= 16 ? __mmask16(0)
                                    : __mmask16((1u << (cols - 16)) - 1);
  const float* row[kMr];
#pragma GCC unroll 8
  for (int64_t r = 0; r < kMr; ++r) row[r] = a + r * row_stride;
  // The loops over the tile's rows are unrolled so that the 16 accumulators live in registers.
  __m512 acc[kMr][2];
#pragma GCC unroll 8
  for (int64_t r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_maskz_loadu_ps(m0, b), b1 = _mm512_maskz_loadu_ps(m1, b + 16);
#pragma GCC unroll 8
    for (int64_t r = 0; r < kMr; ++r) {
      const __m512 av = _mm512_set1_ps(row[r][p * step]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
    b += b_stride;
  }
  const __m512 va = _mm512_set1_ps(alpha);
#pragma GCC unroll 8
  for (int64_t r = 0; r < rows; ++r) {
    float* cr = c + r * ldc;
    __m512 v0 = _mm512_mul_ps(acc[r][0], va), v1 = _mm512_mul_ps(acc[r][1], va);
    if (beta != 0) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr + 16));
    }
    _mm512_mask_storeu_ps(cr, m0, v0);
    _mm512_mask_storeu_ps(cr + 16, m1, v1);
  }
}

}  // namespace

void sgemm_avx512(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
    return;
  }
  // A general beta scales C once; the blocks then accumulate with beta 1.
  if (beta != 0 && beta != 1) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] *= beta;
    beta = 1;
  }
  // Packing B pays for itself when many row tiles reuse a panel; a product of few rows reads
  // an untransposed B where it lies.
  const bool pack = trans_b || m > kMaxUnpackedRows;
  thread_local std::vector<float> packed_a_edge, packed_b;
  const int64_t nc_max = std::min(kNc, (n + kNr - 1) / kNr * kNr);
  packed_b.resize(size_t(kKc * nc_max));
  packed_a_edge.resize(size_t(kKc * kMr));
  // Where row r, depth p of op(A) lies: a[r * a_row + p * a_step].
  const int64_t a_row = trans_a ? 1 : lda, a_step = trans_a ? lda : 1;
  for (int64_t j0 = 0; j0 < n; j0 += kNc) {
    const int64_t nc = std::min(kNc, n - j0);
    for (int64_t p0 = 0; p0 < k; p0 += kKc) {
      const int64_t kc = std::min(kKc, k - p0);
      const float block_beta = p0 == 0 ? beta : 1.0f;
      if (pack) pack_b(b, ldb, trans_b, p0, kc, j0, nc, packed_b.data());
      const int64_t full_rows = m / kMr * kMr;
      if (full_rows < m)
        pack_a_edge(a, lda, trans_a, full_rows, m - full_rows, p0, kc, packed_a_edge.data());
      for (int64_t i0 = 0; i0 < m; i0 += kMc) {
        const int64_t mc = std::min(kMc, m - i0);
        for (int64_t jr = 0; jr < nc; jr += kNr) {
          const float* bp = pack ? packed_b.data() + jr * kc : b + p0 * ldb + j0 + jr;
          const int64_t b_stride = pack ? kNr : ldb;
          const int64_t cols = std::min(kNr, nc - jr);
          for (int64_t i = i0; i < i0 + mc; i += kMr) {
            float* ct = c + i * ldc + j0 + jr;
            if (i < full_rows) {
              tile(kc, a + i * a_row + p0 * a_step, a_row, a_step, bp, b_stride, ct, ldc, kMr, cols,
                   alpha, block_beta);
            } else {
              tile(kc, packed_a_edge.data(), 1, kMr, bp, b_stride, ct, ldc, m - i, cols, alpha,
                   block_beta);
            }
          }
        }
      }
    }
  }
}

}  // namespace nabla::cpu
