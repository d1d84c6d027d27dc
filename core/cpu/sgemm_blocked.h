// The blocked driver under sgemm's kernels, in the form of Goto and BLIS: B is packed into
// panels of Kernel::kNr columns, and a Kernel::kMr x kNr register tile of C accumulates over a
// block of kKc products, reading A in place (packing A cost more than it saved on the narrow
// products of convolutions). The driver is portable code; the kernel brings the register tile and
// the packing moves for its instruction set. Private to core/cpu: included by sgemm_avx512.cpp and
// sgemm_avx2.cpp only.
//
// A Kernel has kMr, kNr and kTransposeWidth, and static functions
//   copy_panel_row(row, cols, out): out[0, kNr) = the `cols` floats at row, then zeros;
//   transpose_into_panel(line, depth, out): out[p * kNr + j] = line[j][p] for kTransposeWidth
//     lines and a depth that is a multiple of kTransposeWidth;
//   tile<kAdjacentRows>(kc, a_rows, step, b_rows, c, ldc, rows, cols, alpha, beta): C[rows, cols]
//     (rows <= kMr, cols <= kNr) = alpha * A_tile @ B_tile + beta * C, reading C only when beta is
//     1. Row r, step p of A's tile is a_rows[r][p * step]; with kAdjacentRows the rows' values at
//     each step are adjacent (a transposed A, the packed edge panel), so one pointer reaches all
//     of them. b_rows.row(p) is step p of B's kNr columns, readable past `cols` when
//     b_rows.kPadded.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/cpu/sgemm.h"

namespace nabla::cpu::blocked {

constexpr int64_t kKc = 256;   // depth of a block: a B panel (kKc x kNr) stays in L1
constexpr int64_t kMc = 128;   // about this many rows of A per block (128 KiB) stay in L2
constexpr int64_t kNc = 2048;  // columns of B per packed block
// Packing B pays for itself when many row tiles reuse a panel; a product of at most this many
// rows reads an untransposed B where it lies.
constexpr int64_t kMaxUnpackedRows = 32;

// Where row i, depth p0 of op(A) starts, and the distance between a row's steps.
inline const float* a_row(const GemmOperand& a, int64_t i, int64_t p0) {
  if (a.lines) return a.lines[i] + p0;
  return a.trans ? a.data + p0 * a.ld + i : a.data + i * a.ld + p0;
}
inline int64_t a_step(const GemmOperand& a) { return a.trans && !a.lines ? a.ld : 1; }

// The packed panels start on a cache line, so that a row of a panel never straddles two.
constexpr int64_t kLineFloats = 16;
inline float* line_aligned(float* p) {
  return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63));
}

// The last rows of A, fewer than kMr, as one zero-padded panel stored depth-major (kMr values per
// step): the tile then reads them like kMr full rows, through one pointer.
template <int64_t kMr>
void pack_a_panel(const GemmOperand& a, int64_t i0, int64_t rows, int64_t p0, int64_t kc,
                  float* out) {
  const float* row[kMr];
  for (int64_t r = 0; r < rows; ++r) row[r] = a_row(a, i0 + r, p0);
  const int64_t step = a_step(a);
  for (int64_t p = 0; p < kc; ++p, out += kMr) {
    for (int64_t r = 0; r < rows; ++r) out[r] = row[r][p * step];
    for (int64_t r = rows; r < kMr; ++r) out[r] = 0;
  }
}

// B's depth [p0, p0 + kc) and columns [j0, j0 + nc) as panels of kNr columns, each stored
// depth-major (kNr values per step), zero-padded to whole panels.
template <class Kernel>
void pack_b(const GemmOperand& b, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* out) {
  constexpr int64_t kNr = Kernel::kNr, kWidth = Kernel::kTransposeWidth;
  for (int64_t panel = 0; panel < nc; panel += kNr) {
    const int64_t cols = std::min(kNr, nc - panel);
    if (b.trans) {
      // Column j of op(B) is contiguous: groups of columns are transposed in registers, and what
      // is left over (a partial group of columns, the last steps) one by one.
      if (cols < kNr) std::fill(out, out + kc * kNr, 0.0f);
      const float* line[kNr];
      for (int64_t j = 0; j < cols; ++j) {
        const int64_t col = j0 + panel + j;
        line[j] = (b.lines ? b.lines[col] : b.data + col * b.ld) + p0;
      }
      const int64_t full_groups = cols / kWidth, blocked_depth = kc / kWidth * kWidth;
      for (int64_t group = 0; group < full_groups; ++group)
        Kernel::transpose_into_panel(line + kWidth * group, blocked_depth, out + kWidth * group);
      for (int64_t j = 0; j < cols; ++j) {
        const int64_t p_begin = j < kWidth * full_groups ? blocked_depth : 0;
        for (int64_t p = p_begin; p < kc; ++p) out[p * kNr + j] = line[j][p];
      }
      out += kc * kNr;
      continue;
    }
    for (int64_t p = 0; p < kc; ++p) {
      const float* row = (b.lines ? b.lines[p0 + p] : b.data + (p0 + p) * b.ld) + j0 + panel;
      Kernel::copy_panel_row(row, cols, out);
      out += kNr;
    }
  }
}

// Where the tile finds step p of B's kNr columns: a packed panel, whose rows are zero-padded to
// kNr floats (kPadded), B's own rows (stride), or B's rows given as a line table
// (lines[p] + offset).
template <bool kPaddedRows>
struct RowsAtStride {
  static constexpr bool kPadded = kPaddedRows;
  const float* data;
  int64_t stride;
  const float* row(int64_t p) const { return data + p * stride; }
};
using PackedRows = RowsAtStride<true>;
using StridedRows = RowsAtStride<false>;
struct LineRows {
  static constexpr bool kPadded = false;
  const float* const* lines;
  int64_t offset;
  const float* row(int64_t p) const { return lines[p] + offset; }
};

// As sgemm, for m, n, k > 0 and beta 0 or 1.
template <class Kernel>
void sgemm(int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a, const GemmOperand& b,
           float beta, float* c, int64_t ldc) {
  constexpr int64_t kMr = Kernel::kMr, kNr = Kernel::kNr;
  constexpr int64_t kRowBlock = kMc / kMr * kMr;  // whole register tiles
  const bool pack = b.trans || m > kMaxUnpackedRows;
  thread_local std::vector<float> packed_a, packed_b;
  const int64_t nc_max = std::min(kNc, (n + kNr - 1) / kNr * kNr);
  packed_b.resize(size_t(kKc * nc_max + kLineFloats));
  packed_a.resize(size_t(kKc * kMr + kLineFloats));
  float* const b_panels = line_aligned(packed_b.data());
  float* const a_panels = line_aligned(packed_a.data());
  const int64_t row_step = a_step(a);
  for (int64_t j0 = 0; j0 < n; j0 += kNc) {
    const int64_t nc = std::min(kNc, n - j0);
    for (int64_t p0 = 0; p0 < k; p0 += kKc) {
      const int64_t kc = std::min(kKc, k - p0);
      const float block_beta = p0 == 0 ? beta : 1.0f;
      if (pack) pack_b<Kernel>(b, p0, kc, j0, nc, b_panels);
      const int64_t full_rows = m / kMr * kMr;
      if (full_rows < m) pack_a_panel<kMr>(a, full_rows, m - full_rows, p0, kc, a_panels);
      for (int64_t i0 = 0; i0 < m; i0 += kRowBlock) {
        const int64_t mc = std::min(kRowBlock, m - i0);
        for (int64_t jr = 0; jr < nc; jr += kNr) {
          const int64_t cols = std::min(kNr, nc - jr);
          for (int64_t i = i0; i < i0 + mc; i += kMr) {
            float* ct = c + i * ldc + j0 + jr;
            const int64_t rows = std::min(kMr, m - i);
            const float* tile_rows[kMr];
            int64_t step = kMr;
            for (int64_t r = 0; r < kMr; ++r) tile_rows[r] = a_panels + r;
            if (i < full_rows) {
              for (int64_t r = 0; r < kMr; ++r) tile_rows[r] = a_row(a, i + r, p0);
              step = row_step;
            }
            const bool adjacent = i >= full_rows || (a.trans && !a.lines);
            auto run = [&](auto b_rows) {
              if (adjacent) {
                Kernel::template tile<true>(kc, tile_rows, step, b_rows, ct, ldc, rows, cols, alpha,
                                            block_beta);
              } else {
                Kernel::template tile<false>(kc, tile_rows, step, b_rows, ct, ldc, rows, cols,
                                             alpha, block_beta);
              }
            };
            if (pack) {
              run(PackedRows{b_panels + jr * kc, kNr});
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

}  // namespace nabla::cpu::blocked
