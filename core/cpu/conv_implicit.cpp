// Note [implicit GEMM]: with stride 1 and "same" padding, kernel offset (ki, kj) reads the input
// plane shifted by (ki - ph, kj - pw). Each plane is copied once into a padded layout in which
// every such shift is a plain offset: rows of Wp = W + pw floats (the W values, then pw zeros),
// ph zero rows above and below, and pw zeros before and after. Output (i, j) is column
// q = i * Wp + j, and offset (ki, kj) reads the padded plane at q + ki * Wp + kj: the zeros
// after a row serve both as its right padding and as the next row's left padding. So the
// products read "line" (c, ki, kj) = padded plane c + ki * Wp + kj, for every channel and
// offset, straight from one buffer (a line table, sgemm.h): a copy of the input instead
// of im2col's kh * kw copies. The columns j in [W, Wp) of each row are computed too and
// dropped (3% more work on 32x32 planes, 11% on 8x8).
//
// The input gradient is the same kind of convolution of the output gradient, with each kernel
// turned by 180 degrees and the channel axes swapped. The weight gradient pairs the output
// gradient, spread into the padded columns with zeros in the dropped ones, with the same lines;
// small planes put several images side by side, so that one product is deep enough.
#include "core/cpu/conv_implicit.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/cpu/sgemm.h"

namespace nabla::cpu {

namespace {

// Below this depth (columns per image), a weight-gradient product takes several images.
constexpr int64_t kMinGemmDepth = 256;

// A plane's padded layout (the Note).
struct PaddedPlane {
  int64_t h, w, ph, pw;
  explicit PaddedPlane(const ConvGeometry& g)
      : h(g.h), w(g.w), ph(g.p.padding[0]), pw(g.p.padding[1]) {}
  int64_t row() const { return w + pw; }
  int64_t length() const { return pw + (h + 2 * ph) * row() + pw; }
  int64_t columns() const { return (h - 1) * row() + w; }
};

// Copies an [h, w] plane into the padded layout, writing all length() floats.
void pad_plane(const float* src, const PaddedPlane& pp, float* dst) {
  const int64_t wp = pp.row();
  std::fill(dst, dst + pp.pw + pp.ph * wp, 0.0f);
  float* row = dst + pp.pw + pp.ph * wp;
  for (int64_t i = 0; i < pp.h; ++i, row += wp, src += pp.w) {
    std::copy(src, src + pp.w, row);
    std::fill(row + pp.w, row + wp, 0.0f);
  }
  std::fill(row, row + pp.ph * wp + pp.pw, 0.0f);
}

// Lines (c, ki, kj) of `channels` padded planes starting at `base`, `stride` floats apart.
void shifted_lines(const ConvGeometry& g, const PaddedPlane& pp, const float* base,
                   int64_t channels, int64_t stride, std::vector<const float*>& lines) {
  lines.resize(size_t(channels * g.kh * g.kw));
  const float** line = lines.data();
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t ki = 0; ki < g.kh; ++ki)
      for (int64_t kj = 0; kj < g.kw; ++kj) *line++ = base + c * stride + ki * pp.row() + kj;
}

// One image: out [out_channels planes] = weights [out_channels, in_channels * KK] applied to the
// in_channels planes of `in` (plus bias, when given), for each group.
void same_size_conv_image(const ConvGeometry& g, const float* in, int64_t in_channels,
                          const float* weights, int64_t out_channels, const float* bias,
                          float* out) {
  const PaddedPlane pp(g);
  const int64_t plane = g.h * g.w, depth = in_channels * g.kh * g.kw, q = pp.columns();
  thread_local std::vector<float> padded, product;
  thread_local std::vector<const float*> lines;
  padded.resize(size_t(in_channels * pp.length()));
  product.resize(size_t(out_channels * q));
  shifted_lines(g, pp, padded.data(), in_channels, pp.length(), lines);
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    for (int64_t c = 0; c < in_channels; ++c)
      pad_plane(in + (grp * in_channels + c) * plane, pp, padded.data() + c * pp.length());
    sgemm(out_channels, q, depth, 1.0f, {.data = weights + grp * out_channels * depth, .ld = depth},
          {.lines = lines.data()}, 0.0f, product.data(), q);
    for (int64_t o = 0; o < out_channels; ++o) {
      const float shift = bias ? bias[grp * out_channels + o] : 0.0f;
      const float* src = product.data() + o * q;
      float* dst = out + (grp * out_channels + o) * plane;
      for (int64_t i = 0; i < g.h; ++i)
        for (int64_t j = 0; j < g.w; ++j) dst[i * g.w + j] = src[i * pp.row() + j] + shift;
    }
  }
}

}  // namespace

void spread_rows(const float* src, int64_t rows, int64_t cols, int64_t row_stride, int64_t length,
                 float* dst) {
  float* row = dst;
  for (int64_t i = 0; i < rows; ++i, row += row_stride, src += cols) {
    std::copy(src, src + cols, row);
    std::fill(row + cols, row + row_stride, 0.0f);
  }
  std::fill(row, dst + length, 0.0f);
}

bool implicit_conv_applies(const ConvGeometry& g, DType dtype) {
  // Measured against im2col (bench_conv): the dropped columns, and the rounding of a product's
  // columns up to whole 32-wide panels, cost more than im2col saves on planes under 16x16
  // (8x8: 71 columns computed for 64, in 96 panel columns), and a product of fewer than 8 rows
  // (the register tile's height) or spreading a wide gradient for a 3-channel input lose too.
  return dtype == kFloat32 && has_sgemm_kernel() && !g.is_pointwise() && g.keeps_plane_size() &&
         g.h * g.w >= 256 && g.cg() >= 8 && g.og() >= 8 && g.n >= omp_get_max_threads();
}

void implicit_conv2d(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                     float* y, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i)
    same_size_conv_image(g, x + i * g.c * g.h * g.w, g.cg(), w, g.og(), bias,
                         y + i * g.o * g.h * g.w);
}

void implicit_conv2d_backward_data(const ConvGeometry& g, const float* gy, const float* w_flipped,
                                   float* gx, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i)
    same_size_conv_image(g, gy + i * g.o * g.h * g.w, g.og(), w_flipped, g.cg(), nullptr,
                         gx + i * g.c * g.h * g.w);
}

void flip_for_backward_data(const ConvGeometry& g, const float* w, float* out) {
  const int64_t kk = g.kh * g.kw;
  for (int64_t grp = 0; grp < g.groups; ++grp)
    for (int64_t c = 0; c < g.cg(); ++c)
      for (int64_t o = 0; o < g.og(); ++o)
        for (int64_t ki = 0; ki < g.kh; ++ki)
          for (int64_t kj = 0; kj < g.kw; ++kj)
            out[((grp * g.cg() + c) * g.og() + o) * kk + ki * g.kw + kj] =
                w[((grp * g.og() + o) * g.cg() + c) * kk + (g.kh - 1 - ki) * g.kw +
                  (g.kw - 1 - kj)];
}

void implicit_conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* gy,
                                     float* gw, bool transposed, int64_t begin, int64_t end) {
  const PaddedPlane pp(g);
  const int64_t plane = g.h * g.w, len = pp.length(), rows = g.col_rows();
  const int64_t images = std::clamp<int64_t>((kMinGemmDepth + pp.columns() - 1) / pp.columns(), 1,
                                             std::max<int64_t>(end - begin, 1));
  thread_local std::vector<float> padded, spread;
  thread_local std::vector<const float*> lines;
  padded.resize(size_t(g.cg() * images * len));
  spread.resize(size_t(g.og() * images * len));
  for (int64_t i = begin; i < end; i += images) {
    // Channel-major, image-minor: a channel's line runs through all `count` images.
    const int64_t count = std::min(images, end - i), ld = count * len;
    const int64_t depth = (count - 1) * len + pp.columns();
    shifted_lines(g, pp, padded.data(), g.cg(), ld, lines);
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      for (int64_t j = 0; j < count; ++j) {
        const float* xi = x + ((i + j) * g.c + grp * g.cg()) * plane;
        for (int64_t c = 0; c < g.cg(); ++c)
          pad_plane(xi + c * plane, pp, padded.data() + c * ld + j * len);
        const float* gyi = gy + ((i + j) * g.o + grp * g.og()) * plane;
        for (int64_t o = 0; o < g.og(); ++o)
          spread_rows(gyi + o * plane, g.h, g.w, pp.row(), len, spread.data() + o * ld + j * len);
      }
      float* out = gw + grp * g.og() * rows;
      if (transposed) {
        sgemm(rows, g.og(), depth, 1.0f, {.lines = lines.data()},
              {.data = spread.data(), .ld = ld, .trans = true}, 1.0f, out, g.og());
      } else {
        sgemm(g.og(), rows, depth, 1.0f, {.data = spread.data(), .ld = ld},
              {.trans = true, .lines = lines.data()}, 1.0f, out, rows);
      }
    }
  }
}

}  // namespace nabla::cpu
