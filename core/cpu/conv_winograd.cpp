// Note [Winograd]: Lavin and Gray's F(2x2, 3x3). The output is cut into 2x2 tiles; the 4x4
// input window d of each tile and each 3x3 kernel g are transformed, multiplied elementwise and
// transformed back:
//   y = A^T [(G g G^T) . (B^T d B)] A.
// Summed over input channels, the elementwise products become 16 matrix products, one per
// position xi of the 4x4 transform: M[xi] [O, tiles] = U[xi] [O, C] @ V[xi] [C, tiles]. That is
// 16 multiplications per output tile and channel pair instead of direct convolution's 36, so
// the products do 2.25x fewer operations, at the cost of the transforms (additions only).
//
// The input gradient is the same convolution of the output gradient with the flipped kernels.
// The weight gradient is the adjoint in g: with P = A dy A^T for each 2x2 tile of the output
// gradient, dL/dg = G^T [sum over tiles of P . V] G, so it is 16 products
// S[xi] [O, C] += P[xi] [O, tiles] @ V[xi]^T [tiles, C], transformed back once per call.
//
// F(2x2, 3x3) loses little precision in float32 (its transforms hold only 0, +-1 and +-1/2);
// the larger tiles F(4x4, 3x3) would save more operations but lose about a digit.
#include "core/cpu/conv_winograd.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/cpu/avx512_lanes.h"
#include "core/cpu/conv_winograd_transforms.h"
#include "core/cpu/isa.h"
#include "core/cpu/loops.h"
#include "core/cpu/sgemm.h"

namespace nabla::cpu {

namespace {

using winograd::kTransformSize;
using winograd::Tiling;

// A product takes whole images, and their transformed input is 4 times their size: larger planes
// (ImageNet's 112x112 and up) would need tens of MB of it per thread.
constexpr int64_t kMaxPlane = 64 * 64;
// The 16 per-position matrices lie this many floats (a cache line) further apart than their
// size: a transform writes all 16 per tile, and at power-of-two distances they would all fall
// into one set of the L1 cache.
constexpr int64_t kSkew = 16;

// The transforms run on 16 tiles of a tile row at once, one vector lane per tile: a tile's
// window columns 2 tj .. 2 tj + 3 are the even and odd lanes of the row, loaded at offsets 0
// and 2, split apart by permutes.

// One row of 16 windows: the columns 2 tj + 0, 1, 2, 3 of window tj, from the `count` floats at
// src (a lambda would not inherit this function's target, so this is a function).
__attribute__((target("avx512f"), always_inline)) inline void window_row(const float* src,
                                                                         int64_t count,
                                                                         __m512 out[4]) {
  out[0] = every_other(src, count, false);
  out[1] = every_other(src, count, true);
  out[2] = every_other(src + 2, count, false);
  out[3] = every_other(src + 2, count, true);
}

// The transforms of winograd::Transforms, for AVX-512. Here the padded plane's rows are copied
// inline, since a library call per row of a small plane costs more than the copy.
__attribute__((target("avx512f"))) void transform_input(const float* plane, const Tiling& t,
                                                        float* padded, float* v,
                                                        int64_t xi_stride) {
  const int64_t pc = t.padded_cols();
  for (int64_t i = 0; i < t.h; ++i) {
    const float* src = plane + i * t.w;
    float* dst = padded + (i + 1) * pc + 1;
    for (int64_t j = 0; j < t.w; j += 16) {
      const __mmask16 lanes = low_bits(t.w - j);
      _mm512_mask_storeu_ps(dst + j, lanes, _mm512_maskz_loadu_ps(lanes, src + j));
    }
  }
  // Down a column of 16 tiles, a window's last two rows are the next window's first two: each
  // padded row is loaded and split into lanes once.
  for (int64_t tj = 0; tj < t.tw; tj += 16) {
    const int64_t n = std::min<int64_t>(16, t.tw - tj);
    const __mmask16 valid = low_bits(n);
    const float* column = padded + 2 * tj;
    __m512 d[4][4];
    window_row(column, 2 * n, d[2]);
    window_row(column + pc, 2 * n, d[3]);
    for (int64_t ti = 0; ti < t.th; ++ti) {
      for (int c = 0; c < 4; ++c) {
        d[0][c] = d[2][c];
        d[1][c] = d[3][c];
      }
      window_row(column + (2 * ti + 2) * pc, 2 * n, d[2]);
      window_row(column + (2 * ti + 3) * pc, 2 * n, d[3]);
      __m512 bd[4][4];  // B^T d
      for (int c = 0; c < 4; ++c) {
        bd[0][c] = _mm512_sub_ps(d[0][c], d[2][c]);
        bd[1][c] = _mm512_add_ps(d[1][c], d[2][c]);
        bd[2][c] = _mm512_sub_ps(d[2][c], d[1][c]);
        bd[3][c] = _mm512_sub_ps(d[1][c], d[3][c]);
      }
      float* out = v + ti * t.tw + tj;
      for (int r = 0; r < 4; ++r) {
        float* o = out + r * 4 * xi_stride;
        _mm512_mask_storeu_ps(o, valid, _mm512_sub_ps(bd[r][0], bd[r][2]));
        _mm512_mask_storeu_ps(o + xi_stride, valid, _mm512_add_ps(bd[r][1], bd[r][2]));
        _mm512_mask_storeu_ps(o + 2 * xi_stride, valid, _mm512_sub_ps(bd[r][2], bd[r][1]));
        _mm512_mask_storeu_ps(o + 3 * xi_stride, valid, _mm512_sub_ps(bd[r][1], bd[r][3]));
      }
    }
  }
}

__attribute__((target("avx512f"))) void transform_output(const float* m, int64_t xi_stride,
                                                         const Tiling& t, float bias,
                                                         float* plane) {
  // Lanes 0-7 then 8-15 of two vectors, alternating: a tile's two outputs side by side.
  const __m512i first_half =
      _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i second_half = _mm512_add_epi32(first_half, _mm512_set1_epi32(8));
  const __m512 shift = _mm512_set1_ps(bias);
  for (int64_t ti = 0; ti < t.th; ++ti) {
    for (int64_t tj = 0; tj < t.tw; tj += 16) {
      const int64_t n = std::min<int64_t>(16, t.tw - tj);
      const float* src = m + ti * t.tw + tj;
      __m512 s[2][4];  // A^T m
      for (int c = 0; c < 4; ++c) {
        const __mmask16 valid = low_bits(n);
        const __m512 m0 = _mm512_maskz_loadu_ps(valid, src + (0 + c) * xi_stride);
        const __m512 m1 = _mm512_maskz_loadu_ps(valid, src + (4 + c) * xi_stride);
        const __m512 m2 = _mm512_maskz_loadu_ps(valid, src + (8 + c) * xi_stride);
        const __m512 m3 = _mm512_maskz_loadu_ps(valid, src + (12 + c) * xi_stride);
        s[0][c] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
        s[1][c] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
      }
      const int64_t count = std::min(2 * n, t.w - 2 * tj);  // outputs in the plane's row
      for (int r = 0; r < 2 && 2 * ti + r < t.h; ++r) {
        const __m512 left =
            _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[r][0], s[r][1]), s[r][2]), shift);
        const __m512 right =
            _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[r][1], s[r][2]), s[r][3]), shift);
        float* row = plane + (2 * ti + r) * t.w + 2 * tj;
        _mm512_mask_storeu_ps(row, low_bits(count),
                              _mm512_permutex2var_ps(left, first_half, right));
        _mm512_mask_storeu_ps(row + 16, low_bits(count - 16),
                              _mm512_permutex2var_ps(left, second_half, right));
      }
    }
  }
}

__attribute__((target("avx512f"))) void transform_grad_output(const float* plane, const Tiling& t,
                                                              float* p, int64_t xi_stride) {
  for (int64_t ti = 0; ti < t.th; ++ti) {
    for (int64_t tj = 0; tj < t.tw; tj += 16) {
      const int64_t n = std::min<int64_t>(16, t.tw - tj);
      const int64_t count = std::min(2 * n, t.w - 2 * tj);  // floats of the plane's row
      __m512 dy[2][2];
      for (int r = 0; r < 2; ++r) {
        if (2 * ti + r >= t.h) {
          dy[r][0] = dy[r][1] = _mm512_setzero_ps();
          continue;
        }
        const float* src = plane + (2 * ti + r) * t.w + 2 * tj;
        dy[r][0] = every_other(src, count, false);
        dy[r][1] = every_other(src, count, true);
      }
      const __m512 zero = _mm512_setzero_ps();
      const __m512 q[4][2] = {
          {dy[0][0], dy[0][1]},
          {_mm512_add_ps(dy[0][0], dy[1][0]), _mm512_add_ps(dy[0][1], dy[1][1])},
          {_mm512_sub_ps(dy[0][0], dy[1][0]), _mm512_sub_ps(dy[0][1], dy[1][1])},
          {_mm512_sub_ps(zero, dy[1][0]), _mm512_sub_ps(zero, dy[1][1])}};
      const __mmask16 valid = low_bits(n);
      float* out = p + ti * t.tw + tj;
      for (int r = 0; r < 4; ++r) {
        float* o = out + r * 4 * xi_stride;
        _mm512_mask_storeu_ps(o, valid, q[r][0]);
        _mm512_mask_storeu_ps(o + xi_stride, valid, _mm512_add_ps(q[r][0], q[r][1]));
        _mm512_mask_storeu_ps(o + 2 * xi_stride, valid, _mm512_sub_ps(q[r][0], q[r][1]));
        _mm512_mask_storeu_ps(o + 3 * xi_stride, valid, _mm512_sub_ps(zero, q[r][1]));
      }
    }
  }
}

const winograd::Transforms kAvx512Transforms = {transform_input, transform_output,
                                                transform_grad_output};

// The widest transforms the CPU runs (winograd_applies checks that it runs one).
const winograd::Transforms& transforms() {
  return has_avx512() ? kAvx512Transforms : winograd::kAvx2Transforms;
}

// The 3x3 kernel gradient G^T s G from s[xi * xi_stride].
void inverse_transform_weight(const float* s, int64_t xi_stride, float out[9]) {
  float r[3][4];  // G^T s
  for (int c = 0; c < 4; ++c) {
    const float s0 = s[(0 + c) * xi_stride], s1 = s[(4 + c) * xi_stride];
    const float s2 = s[(8 + c) * xi_stride], s3 = s[(12 + c) * xi_stride];
    r[0][c] = s0 + 0.5f * (s1 + s2);
    r[1][c] = 0.5f * (s1 - s2);
    r[2][c] = 0.5f * (s1 + s2) + s3;
  }
  for (int i = 0; i < 3; ++i) {
    out[i * 3 + 0] = r[i][0] + 0.5f * (r[i][1] + r[i][2]);
    out[i * 3 + 1] = 0.5f * (r[i][1] - r[i][2]);
    out[i * 3 + 2] = 0.5f * (r[i][1] + r[i][2]) + r[i][3];
  }
}

}  // namespace

bool winograd_applies(const ConvGeometry& g, DType dtype) {
  return dtype == kFloat32 && has_avx2_fma() && g.kh == 3 && g.kw == 3 && g.keeps_plane_size() &&
         g.p.padding[0] == 1 && g.p.padding[1] == 1 && g.groups == 1 && g.c >= 16 && g.o >= 16 &&
         g.h * g.w <= kMaxPlane && g.n >= omp_get_max_threads();
}

int64_t winograd_weight_stride(int64_t out_channels, int64_t in_channels) {
  return out_channels * in_channels + kSkew;
}

void winograd_transform_weights(const float* w, int64_t out_channels, int64_t in_channels,
                                float* u) {
  const int64_t xi_stride = winograd_weight_stride(out_channels, in_channels);
  // Once per call, before the images: threads split the output channels.
  parallel_for(out_channels, 1, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      for (int64_t c = 0; c < in_channels; ++c) {
        const float* k = w + (o * in_channels + c) * 9;
        float gk[4][3];  // G g
        for (int j = 0; j < 3; ++j) {
          gk[0][j] = k[j];
          gk[1][j] = 0.5f * (k[j] + k[3 + j] + k[6 + j]);
          gk[2][j] = 0.5f * (k[j] - k[3 + j] + k[6 + j]);
          gk[3][j] = k[6 + j];
        }
        float* out = u + o * in_channels + c;
        for (int r = 0; r < 4; ++r) {
          out[(r * 4 + 0) * xi_stride] = gk[r][0];
          out[(r * 4 + 1) * xi_stride] = 0.5f * (gk[r][0] + gk[r][1] + gk[r][2]);
          out[(r * 4 + 2) * xi_stride] = 0.5f * (gk[r][0] - gk[r][1] + gk[r][2]);
          out[(r * 4 + 3) * xi_stride] = gk[r][2];
        }
      }
    }
  });
}

void winograd_conv2d(const ConvGeometry& g, const float* in, int64_t in_channels, const float* u,
                     int64_t out_channels, const float* bias, float* out, int64_t begin,
                     int64_t end) {
  const Tiling t(g.h, g.w);
  const winograd::Transforms& transform = transforms();
  const int64_t plane = g.h * g.w, per_product = t.images_per_product(end - begin);
  thread_local std::vector<float> padded, v, m;
  padded.assign(size_t(t.padded_rows() * t.padded_cols()), 0.0f);
  const int64_t max_tiles = per_product * t.tiles();
  v.resize(size_t(kTransformSize * (in_channels * max_tiles + kSkew)));
  m.resize(size_t(kTransformSize * (out_channels * max_tiles + kSkew)));
  for (int64_t i = begin; i < end; i += per_product) {
    const int64_t count = std::min(per_product, end - i), tiles = count * t.tiles();
    const int64_t v_stride = in_channels * tiles + kSkew, m_stride = out_channels * tiles + kSkew;
    // v [xi][c][tile], the tiles of the `count` images side by side.
    for (int64_t c = 0; c < in_channels; ++c)
      for (int64_t j = 0; j < count; ++j)
        transform.input(in + ((i + j) * in_channels + c) * plane, t, padded.data(),
                        v.data() + c * tiles + j * t.tiles(), v_stride);
    for (int64_t xi = 0; xi < kTransformSize; ++xi) {
      sgemm(out_channels, tiles, in_channels, 1.0f,
            {.data = u + xi * winograd_weight_stride(out_channels, in_channels), .ld = in_channels},
            {.data = v.data() + xi * v_stride, .ld = tiles}, 0.0f, m.data() + xi * m_stride, tiles);
    }
    for (int64_t o = 0; o < out_channels; ++o)
      for (int64_t j = 0; j < count; ++j)
        transform.output(m.data() + o * tiles + j * t.tiles(), m_stride, t, bias ? bias[o] : 0.0f,
                         out + ((i + j) * out_channels + o) * plane);
  }
}

void winograd_conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* gy,
                                     float* gw, bool transposed, int64_t begin, int64_t end) {
  const Tiling t(g.h, g.w);
  const winograd::Transforms& transform = transforms();
  const int64_t plane = g.h * g.w, per_product = t.images_per_product(end - begin);
  thread_local std::vector<float> padded, v, p, s;
  padded.assign(size_t(t.padded_rows() * t.padded_cols()), 0.0f);
  const int64_t max_tiles = per_product * t.tiles(), s_stride = g.o * g.c + kSkew;
  v.resize(size_t(kTransformSize * (g.c * max_tiles + kSkew)));
  p.resize(size_t(kTransformSize * (g.o * max_tiles + kSkew)));
  s.assign(size_t(kTransformSize * s_stride), 0.0f);
  for (int64_t i = begin; i < end; i += per_product) {
    const int64_t count = std::min(per_product, end - i), tiles = count * t.tiles();
    const int64_t v_stride = g.c * tiles + kSkew, p_stride = g.o * tiles + kSkew;
    for (int64_t j = 0; j < count; ++j) {
      for (int64_t c = 0; c < g.c; ++c)
        transform.input(x + ((i + j) * g.c + c) * plane, t, padded.data(),
                        v.data() + c * tiles + j * t.tiles(), v_stride);
      for (int64_t o = 0; o < g.o; ++o)
        transform.grad_output(gy + ((i + j) * g.o + o) * plane, t,
                              p.data() + o * tiles + j * t.tiles(), p_stride);
    }
    for (int64_t xi = 0; xi < kTransformSize; ++xi) {
      sgemm(g.o, g.c, tiles, 1.0f, {.data = p.data() + xi * p_stride, .ld = tiles},
            {.data = v.data() + xi * v_stride, .ld = tiles, .trans = true}, 1.0f,
            s.data() + xi * s_stride, g.c);
    }
  }
  const int64_t rows = g.c * 9;
  for (int64_t o = 0; o < g.o; ++o) {
    for (int64_t c = 0; c < g.c; ++c) {
      float kernel[9];
      inverse_transform_weight(s.data() + o * g.c + c, s_stride, kernel);
      for (int64_t k = 0; k < 9; ++k) {
        const int64_t r = c * 9 + k;
        gw[transposed ? r * g.o + o : o * rows + r] += kernel[k];
      }
    }
  }
}

}  // namespace nabla::cpu
