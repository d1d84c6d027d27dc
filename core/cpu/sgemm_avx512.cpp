// nabla's own single-threaded float32 GEMM for CPUs with AVX-512, in the blocked form of Goto
// and BLIS: B is packed into panels of kNr columns, and a kMr x kNr register tile of C
// accumulates over a block of kKc products, reading A in place (packing A cost more than it saved
// on the narrow products of convolutions). Either operand may come as a table of lines. Compiled
// for AVX-512 per function, so the rest of the build stays portable; the caller checks the CPU
// first.
#include "core/cpu/sgemm_avx512.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "core/cpu/avx512_lanes.h"
#include "core/cpu/sgemm_dot_avx512.h"

namespace nabla::cpu {

namespace {

constexpr int64_t kMr = 8;     // rows of the register tile: 8 x 2 accumulators
constexpr int64_t kNr = 32;    // columns: two 16-float vectors
constexpr int64_t kKc = 256;   // depth of a block: a B panel (kKc x kNr, 32 KiB) stays in L1
constexpr int64_t kMc = 128;   // rows of A per block (kMc x kKc, 128 KiB) stay in L2
constexpr int64_t kNc = 2048;  // columns of B per packed block
constexpr int64_t kMaxUnpackedRows = 32;  // see sgemm_avx512

// Element (i, j) of op(X).
inline float at(const GemmOperand& x, int64_t i, int64_t j) {
  if (x.lines) return x.trans ? x.lines[j][i] : x.lines[i][j];
  return x.trans ? x.data[j * x.ld + i] : x.data[i * x.ld + j];
}

// The last rows of A, fewer than kMr, as one zero-padded panel stored depth-major (kMr values per
// step): the tile then reads them like kMr full rows.
void pack_a_edge(const GemmOperand& a, int64_t i0, int64_t rows, int64_t p0, int64_t kc,
                 float* out) {
  for (int64_t p = 0; p < kc; ++p, out += kMr) {
    for (int64_t r = 0; r < rows; ++r) out[r] = at(a, i0 + r, p0 + p);
    for (int64_t r = rows; r < kMr; ++r) out[r] = 0;
  }
}

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

// out[p * kNr + j] = line[j][p] for 16 lines and a depth that is a multiple of 16.
__attribute__((target("avx512f"))) void transpose_into_panel(const float* const* line,
                                                             int64_t depth, float* out) {
  for (int64_t p = 0; p < depth; p += 16) {
    __m512 r[16];
    for (int j = 0; j < 16; ++j) r[j] = _mm512_loadu_ps(line[j] + p);
    transpose16(r);
    for (int i = 0; i < 16; ++i) _mm512_storeu_ps(out + (p + i) * kNr, r[i]);
  }
}

// out[0, kNr) = the `cols` floats at row, then zeros: inline, since a library call per row of
// 32 floats cost more than the copy.
__attribute__((target("avx512f"))) inline void copy_panel_row(const float* row, int64_t cols,
                                                              float* out) {
  _mm512_storeu_ps(out, _mm512_maskz_loadu_ps(low_bits(cols), row));
  _mm512_storeu_ps(out + 16, _mm512_maskz_loadu_ps(low_bits(cols - 16), row + 16));
}

// B's depth [p0, p0 + kc) and columns [j0, j0 + nc) as panels of kNr columns, each stored
// depth-major (kNr values per step), zero-padded to whole panels.
void pack_b(const GemmOperand& b, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* out) {
  for (int64_t panel = 0; panel < nc; panel += kNr) {
    const int64_t cols = std::min(kNr, nc - panel);
    if (b.trans) {
      // Column j of op(B) is contiguous: 16 columns by 16 steps are transposed in registers,
      // and what is left over (a partial group of columns, the last steps) one by one.
      if (cols < kNr) std::fill(out, out + kc * kNr, 0.0f);
      const float* line[kNr];
      for (int64_t j = 0; j < cols; ++j) {
        const int64_t col = j0 + panel + j;
        line[j] = (b.lines ? b.lines[col] : b.data + col * b.ld) + p0;
      }
      const int64_t full_groups = cols / 16, blocked_depth = kc / 16 * 16;
      for (int64_t group = 0; group < full_groups; ++group)
        transpose_into_panel(line + 16 * group, blocked_depth, out + 16 * group);
      for (int64_t j = 0; j < cols; ++j) {
        const int64_t p_begin = j < 16 * full_groups ? blocked_depth : 0;
        for (int64_t p = p_begin; p < kc; ++p) out[p * kNr + j] = line[j][p];
      }
      out += kc * kNr;
      continue;
    }
    for (int64_t p = 0; p < kc; ++p) {
      const float* row = (b.lines ? b.lines[p0 + p] : b.data + (p0 + p) * b.ld) + j0 + panel;
      copy_panel_row(row, cols, out);
      out += kNr;
    }
  }
}

// Where the tile finds step p of B's kNr columns: a packed panel or B's own rows (stride), or
// B's rows given as a line table (lines[p] + offset).
struct StridedRows {
  const float* data;
  int64_t stride;
  const float* row(int64_t p) const { return data + p * stride; }
};
struct LineRows {
  const float* const* lines;
  int64_t offset;
  const float* row(int64_t p) const { return lines[p] + offset; }
};

// C[rows, cols] (rows <= kMr, cols <= kNr) = alpha * A_tile @ B_tile + beta * C, reading C only
// when beta is 1 (so that C may hold garbage otherwise). Row r, step p of A's tile is
// a_rows[r][p * step], which covers A, its transpose, a line table and a packed edge panel; the
// kMr rows are few enough for the prefetchers to follow.
// With kAdjacentRows, the rows' values at each step are adjacent (a transposed A, the packed edge
// panel): one pointer reaches all kMr of them, where kMr separate row pointers leave too few
// registers for the loop's own state.
template <bool kAdjacentRows, class BRows>
__attribute__((target("avx512f"))) void tile(int64_t kc, const float* const* a_rows, int64_t step,
                                             BRows b, float* c, int64_t ldc, int64_t rows,
                                             int64_t cols, float alpha, float beta) {
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

// Where row i, depth p0 of op(A) starts, and the distance between its steps.
inline const float* a_row(const GemmOperand& a, int64_t i, int64_t p0) {
  if (a.lines) return a.lines[i] + p0;
  return a.trans ? a.data + p0 * a.ld + i : a.data + i * a.ld + p0;
}

}  // namespace

void sgemm_avx512(int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a,
                  const GemmOperand& b, float beta, float* c, int64_t ldc) {
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
  // With few columns, the panels would be mostly zero padding; a long depth pays for the dot
  // products' sums across lanes.
  if (b.trans && !a.trans && n < kNr && k >= kKc) {
    sgemm_dot_avx512(m, n, k, alpha, a, b, beta, c, ldc);
    return;
  }
  // Packing B pays for itself when many row tiles reuse a panel; a product of few rows reads
  // an untransposed B where it lies.
  const bool pack = b.trans || m > kMaxUnpackedRows;
  thread_local std::vector<float> packed_a_edge, packed_b;
  const int64_t nc_max = std::min(kNc, (n + kNr - 1) / kNr * kNr);
  packed_b.resize(size_t(kKc * nc_max));
  packed_a_edge.resize(size_t(kKc * kMr));
  const int64_t a_step = a.trans && !a.lines ? a.ld : 1;
  for (int64_t j0 = 0; j0 < n; j0 += kNc) {
    const int64_t nc = std::min(kNc, n - j0);
    for (int64_t p0 = 0; p0 < k; p0 += kKc) {
      const int64_t kc = std::min(kKc, k - p0);
      const float block_beta = p0 == 0 ? beta : 1.0f;
      if (pack) pack_b(b, p0, kc, j0, nc, packed_b.data());
      const int64_t full_rows = m / kMr * kMr;
      if (full_rows < m) pack_a_edge(a, full_rows, m - full_rows, p0, kc, packed_a_edge.data());
      for (int64_t i0 = 0; i0 < m; i0 += kMc) {
        const int64_t mc = std::min(kMc, m - i0);
        for (int64_t jr = 0; jr < nc; jr += kNr) {
          const int64_t cols = std::min(kNr, nc - jr);
          for (int64_t i = i0; i < i0 + mc; i += kMr) {
            float* ct = c + i * ldc + j0 + jr;
            const int64_t rows = std::min(kMr, m - i);
            const float* tile_rows[kMr];
            int64_t step = kMr;
            for (int64_t r = 0; r < kMr; ++r) tile_rows[r] = packed_a_edge.data() + r;
            if (i < full_rows) {
              for (int64_t r = 0; r < kMr; ++r) tile_rows[r] = a_row(a, i + r, p0);
              step = a_step;
            }
            const bool adjacent = i >= full_rows || (a.trans && !a.lines);
            auto run = [&](auto b_rows) {
              if (adjacent) {
                tile<true>(kc, tile_rows, step, b_rows, ct, ldc, rows, cols, alpha, block_beta);
              } else {
                tile<false>(kc, tile_rows, step, b_rows, ct, ldc, rows, cols, alpha, block_beta);
              }
            };
            if (pack) {
              run(StridedRows{packed_b.data() + jr * kc, kNr});
            } else if (b.lines) {
              run(LineRows{b.lines + p0, j0 + jr});
            } else {
              run(StridedRows{b.data + p0 * b.ld + j0 + jr, b.ld});
            }
          }
        }
      }
    }
  }
}

}  // namespace nabla::cpu
