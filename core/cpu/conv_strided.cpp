// Note [phase planes]: with stride 2, output (i, j) reads the padded input at (2i + ki, 2j + kj).
// Split the padded plane by the parity of its coordinates into four phase planes,
//   P[p][q](a, b) = padded(2a + p, 2b + q),
// and offset (ki, kj) reads phase plane (ki % 2, kj % 2) at (i + ki / 2, j + kj / 2): a shift, as
// in the implicit GEMM of stride 1 (Note [implicit GEMM] in conv_implicit.cpp). Each phase plane
// is stored with rows of R = OW + (KW - 1) / 2 floats and OH + (KH - 1) / 2 rows; output (i, j)
// is column t = i * R + j of a product, and "line" (c, ki, kj) is phase plane (c, ki % 2, kj % 2)
// from (ki / 2) * R + kj / 2 on. The columns j in [OW, R) are computed and dropped. So the
// products read one copy of the input, split four ways, instead of im2col's KH * KW / 4 copies.
//
// The weight gradient pairs the output gradient, spread into rows of R with zeros in the dropped
// columns, with the same lines (several images side by side when a plane is small). The input
// gradient is the product W^T @ (spread gradient), one row per (c, ki, kj); each row is added
// into its phase plane at its shift (the zeros keep the dropped columns out), and the phase
// planes are then interleaved back into the plane.
#include "core/cpu/conv_strided.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "core/cpu/avx512_lanes.h"
#include "core/cpu/conv_implicit.h"
#include "core/cpu/isa.h"
#include "core/cpu/sgemm.h"

namespace nabla::cpu {

namespace {

// Below this depth (columns per image), a weight-gradient product takes several images.
constexpr int64_t kMinGemmDepth = 256;
constexpr int64_t kPhases = 4;

// The phase-plane layout of one input plane (the Note).
struct PhaseLayout {
  int64_t h, w, ph, pw, oh, ow, row, rows;
  explicit PhaseLayout(const ConvGeometry& g)
      : h(g.h),
        w(g.w),
        ph(g.p.padding[0]),
        pw(g.p.padding[1]),
        oh(g.oh),
        ow(g.ow),
        row(g.ow + (g.kw - 1) / 2),
        rows(g.oh + (g.kh - 1) / 2) {}
  int64_t length() const { return rows * row; }            // one phase plane
  int64_t columns() const { return (oh - 1) * row + ow; }  // a product's columns per image
  // Whether any kernel offset reads rows (p = 1) or columns (q = 1) of odd parity.
  static bool used(int64_t kernel, int64_t parity) { return parity < std::min<int64_t>(kernel, 2); }
};

// The b in [0, count) for which 2b + offset lies in [0, size).
inline std::pair<int64_t, int64_t> inside(int64_t size, int64_t offset, int64_t count) {
  const int64_t lo = std::clamp<int64_t>((1 - offset) / 2, 0, count);
  const int64_t hi = std::clamp<int64_t>((size - offset + 1) / 2, lo, count);
  return {lo, hi};
}

// dst[b] = src[2b] for b < count, 16 at a time; the last pair of a run reads only up to
// src[2 (count - 1)].
__attribute__((target("avx512f"))) void copy_even_avx512(const float* src, int64_t count,
                                                         float* dst) {
  for (int64_t b = 0; b < count; b += 16, src += 32)
    _mm512_mask_storeu_ps(dst + b, low_bits(count - b),
                          every_other(src, 2 * (count - b) - 1, false));
}

void copy_even(const float* src, int64_t count, float* dst) {
  if (has_avx512()) {
    copy_even_avx512(src, count, dst);
    return;
  }
  for (int64_t b = 0; b < count; ++b) dst[b] = src[2 * b];
}

// Phase plane (p, q) of an [h, w] plane, zeros where it lies in the padding or beyond.
void split_phase(const float* src, const PhaseLayout& l, int64_t p, int64_t q, float* dst) {
  for (int64_t a = 0; a < l.rows; ++a, dst += l.row) {
    const int64_t y = 2 * a + p - l.ph;
    if (y < 0 || y >= l.h) {
      std::fill(dst, dst + l.row, 0.0f);
      continue;
    }
    // Input column x = 2b + q - pw lies in the plane for b in [lo, hi).
    const auto [lo, hi] = inside(l.w, q - l.pw, l.row);
    std::fill(dst, dst + lo, 0.0f);
    copy_even(src + y * l.w + 2 * lo + q - l.pw, hi - lo, dst + lo);
    std::fill(dst + hi, dst + l.row, 0.0f);
  }
}

// The used phase planes of `channels` planes into `phases`, plane (c, p, q) at
// ((c * 4 + 2p + q) * stride), `stride` floats apart per (channel, phase).
void split_planes(const ConvGeometry& g, const PhaseLayout& l, const float* src, int64_t channels,
                  float* phases, int64_t stride) {
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t p = 0; p < 2; ++p)
      for (int64_t q = 0; q < 2; ++q)
        if (PhaseLayout::used(g.kh, p) && PhaseLayout::used(g.kw, q))
          split_phase(src + c * l.h * l.w, l, p, q, phases + (c * kPhases + 2 * p + q) * stride);
}

// Lines (c, ki, kj) of the phase planes at `phases`, laid out as split_planes writes them.
void phase_lines(const ConvGeometry& g, const PhaseLayout& l, const float* phases, int64_t stride,
                 std::vector<const float*>& lines) {
  lines.resize(size_t(g.c * g.kh * g.kw));
  const float** line = lines.data();
  for (int64_t c = 0; c < g.c; ++c)
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj)
        *line++ =
            phases + (c * kPhases + 2 * (ki % 2) + kj % 2) * stride + (ki / 2) * l.row + kj / 2;
}

}  // namespace

bool strided_conv_applies(const ConvGeometry& g, DType dtype) {
  return dtype == kFloat32 && has_sgemm_kernel() && g.p.stride[0] == 2 && g.p.stride[1] == 2 &&
         g.p.dilation[0] == 1 && g.p.dilation[1] == 1 && g.groups == 1 && g.oh > 0 && g.ow > 0 &&
         g.c >= 8 && g.o >= 8 && g.n >= omp_get_max_threads();
}

void strided_conv2d(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    float* y, int64_t begin, int64_t end) {
  const PhaseLayout l(g);
  const int64_t cols = l.columns(), depth = g.col_rows();
  thread_local std::vector<float> phases, product;
  thread_local std::vector<const float*> lines;
  phases.assign(size_t(g.c * kPhases * l.length()), 0.0f);
  product.resize(size_t(g.o * cols));
  phase_lines(g, l, phases.data(), l.length(), lines);
  for (int64_t i = begin; i < end; ++i) {
    split_planes(g, l, x + i * g.c * g.h * g.w, g.c, phases.data(), l.length());
    sgemm(g.o, cols, depth, 1.0f, {.data = w, .ld = depth}, {.lines = lines.data()}, 0.0f,
          product.data(), cols);
    for (int64_t o = 0; o < g.o; ++o) {
      const float shift = bias ? bias[o] : 0.0f;
      const float* src = product.data() + o * cols;
      float* dst = y + (i * g.o + o) * g.oh * g.ow;
      for (int64_t r = 0; r < g.oh; ++r)
        for (int64_t j = 0; j < g.ow; ++j) dst[r * g.ow + j] = src[r * l.row + j] + shift;
    }
  }
}

void strided_conv2d_backward_data(const ConvGeometry& g, const float* gy, const float* w, float* gx,
                                  int64_t begin, int64_t end) {
  const PhaseLayout l(g);
  const int64_t cols = l.columns(), rows = g.col_rows(), kk = g.kh * g.kw;
  const int64_t spread_plane_size = g.oh * l.row;  // cols plus the last row's dropped columns
  thread_local std::vector<float> spread, col, phases;
  spread.resize(size_t(g.o * spread_plane_size));
  col.resize(size_t(rows * cols));
  phases.resize(size_t(g.c * kPhases * l.length()));
  for (int64_t i = begin; i < end; ++i) {
    for (int64_t o = 0; o < g.o; ++o)
      spread_rows(gy + (i * g.o + o) * g.oh * g.ow, g.oh, g.ow, l.row, spread_plane_size,
                  spread.data() + o * spread_plane_size);
    sgemm(rows, cols, g.o, 1.0f, {.data = w, .ld = rows, .trans = true},
          {.data = spread.data(), .ld = spread_plane_size}, 0.0f, col.data(), cols);
    std::fill(phases.begin(), phases.end(), 0.0f);
    for (int64_t c = 0; c < g.c; ++c) {
      for (int64_t k = 0; k < kk; ++k) {
        const int64_t ki = k / g.kw, kj = k % g.kw;
        float* dst = phases.data() + (c * kPhases + 2 * (ki % 2) + kj % 2) * l.length() +
                     (ki / 2) * l.row + kj / 2;
        const float* src = col.data() + (c * kk + k) * cols;
        for (int64_t t = 0; t < cols; ++t) dst[t] += src[t];
      }
      // Pixel (y, x) is phase plane (py % 2, px % 2) at (py / 2, px / 2), py = y + ph and
      // px = x + pw; pixels that no window reads (past the last one) get a zero gradient.
      float* plane = gx + (i * g.c + c) * g.h * g.w;
      for (int64_t y = 0; y < g.h; ++y) {
        float* out = plane + y * g.w;
        const int64_t py = y + l.ph;
        if (py / 2 >= l.rows || !PhaseLayout::used(g.kh, py % 2)) {
          std::fill(out, out + g.w, 0.0f);
          continue;
        }
        for (int64_t q = 0; q < 2; ++q) {
          // x = 2b + q - pw for b in [all_lo, all_hi); a window reads those below R.
          const auto [all_lo, all_hi] = inside(g.w, q - l.pw, g.w);
          const int64_t read_hi = PhaseLayout::used(g.kw, q) ? std::min(all_hi, l.row) : all_lo;
          const int64_t offset = q - l.pw;
          const float* src =
              phases.data() + (c * kPhases + 2 * (py % 2) + q) * l.length() + (py / 2) * l.row;
          for (int64_t b = all_lo; b < read_hi; ++b) out[2 * b + offset] = src[b];
          for (int64_t b = std::max(read_hi, all_lo); b < all_hi; ++b) out[2 * b + offset] = 0.0f;
        }
      }
    }
  }
}

void strided_conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* gy,
                                    float* gw, bool transposed, int64_t begin, int64_t end) {
  const PhaseLayout l(g);
  const int64_t len = l.length(), rows = g.col_rows();
  const int64_t images = std::clamp<int64_t>((kMinGemmDepth + l.columns() - 1) / l.columns(), 1,
                                             std::max<int64_t>(end - begin, 1));
  thread_local std::vector<float> phases, spread;
  thread_local std::vector<const float*> lines;
  phases.assign(size_t(g.c * kPhases * images * len), 0.0f);
  spread.resize(size_t(g.o * images * len));
  for (int64_t i = begin; i < end; i += images) {
    // Channel- and phase-major, image-minor: a line runs through all `count` images.
    const int64_t count = std::min(images, end - i), ld = count * len;
    const int64_t depth = (count - 1) * len + l.columns();
    phase_lines(g, l, phases.data(), ld, lines);
    for (int64_t j = 0; j < count; ++j) {
      split_planes(g, l, x + (i + j) * g.c * g.h * g.w, g.c, phases.data() + j * len, ld);
      for (int64_t o = 0; o < g.o; ++o)
        spread_rows(gy + ((i + j) * g.o + o) * g.oh * g.ow, g.oh, g.ow, l.row, len,
                    spread.data() + o * ld + j * len);
    }
    if (transposed) {
      sgemm(rows, g.o, depth, 1.0f, {.lines = lines.data()},
            {.data = spread.data(), .ld = ld, .trans = true}, 1.0f, gw, g.o);
    } else {
      sgemm(g.o, rows, depth, 1.0f, {.data = spread.data(), .ld = ld},
            {.trans = true, .lines = lines.data()}, 1.0f, gw, rows);
    }
  }
}

}  // namespace nabla::cpu
