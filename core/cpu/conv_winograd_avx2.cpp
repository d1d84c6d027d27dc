// Winograd F(2x2, 3x3)'s transforms for AVX2: as conv_winograd.cpp's AVX-512 ones, on the 8 tiles
// of a tile row that one 8-lane vector holds.
#include <immintrin.h>

#include <algorithm>

#include "core/cpu/avx2_lanes.h"
#include "core/cpu/conv_winograd_transforms.h"

namespace nabla::cpu::winograd {

namespace {

// One row of 8 windows: the columns 2 tj + 0, 1, 2, 3 of window tj, from `count` floats at src.
__attribute__((target("avx2"), always_inline)) inline void window_row(const float* src,
                                                                      int64_t count,
                                                                      __m256 out[4]) {
  out[0] = every_other(src, count, false);
  out[1] = every_other(src, count, true);
  out[2] = every_other(src + 2, count, false);
  out[3] = every_other(src + 2, count, true);
}

__attribute__((target("avx2"))) void transform_input(const float* plane, const Tiling& t,
                                                     float* padded, float* v, int64_t xi_stride) {
  const int64_t pc = t.padded_cols();
  // The rows are copied inline, since a library call per row of a small plane costs more than
  // the copy.
  for (int64_t i = 0; i < t.h; ++i) {
    const float* src = plane + i * t.w;
    float* dst = padded + (i + 1) * pc + 1;
    for (int64_t j = 0; j < t.w; j += 8)
      store_first(dst + j, t.w - j, load_first(src + j, t.w - j));
  }
  // Down a column of 8 tiles, a window's last two rows are the next window's first two: each
  // padded row is loaded and split into lanes once.
  for (int64_t tj = 0; tj < t.tw; tj += 8) {
    const int64_t n = std::min<int64_t>(8, t.tw - tj);
    const float* column = padded + 2 * tj;
    __m256 d[4][4];
    window_row(column, 2 * n, d[2]);
    window_row(column + pc, 2 * n, d[3]);
    for (int64_t ti = 0; ti < t.th; ++ti) {
      for (int c = 0; c < 4; ++c) {
        d[0][c] = d[2][c];
        d[1][c] = d[3][c];
      }
      window_row(column + (2 * ti + 2) * pc, 2 * n, d[2]);
      window_row(column + (2 * ti + 3) * pc, 2 * n, d[3]);
      __m256 bd[4][4];  // B^T d
      for (int c = 0; c < 4; ++c) {
        bd[0][c] = _mm256_sub_ps(d[0][c], d[2][c]);
        bd[1][c] = _mm256_add_ps(d[1][c], d[2][c]);
        bd[2][c] = _mm256_sub_ps(d[2][c], d[1][c]);
        bd[3][c] = _mm256_sub_ps(d[1][c], d[3][c]);
      }
      float* out = v + ti * t.tw + tj;
      for (int r = 0; r < 4; ++r) {
        float* o = out + r * 4 * xi_stride;
        store_first(o, n, _mm256_sub_ps(bd[r][0], bd[r][2]));
        store_first(o + xi_stride, n, _mm256_add_ps(bd[r][1], bd[r][2]));
        store_first(o + 2 * xi_stride, n, _mm256_sub_ps(bd[r][2], bd[r][1]));
        store_first(o + 3 * xi_stride, n, _mm256_sub_ps(bd[r][1], bd[r][3]));
      }
    }
  }
}

__attribute__((target("avx2"))) void transform_output(const float* m, int64_t xi_stride,
                                                      const Tiling& t, float bias, float* plane) {
  const __m256 shift = _mm256_set1_ps(bias);
  for (int64_t ti = 0; ti < t.th; ++ti) {
    for (int64_t tj = 0; tj < t.tw; tj += 8) {
      const int64_t n = std::min<int64_t>(8, t.tw - tj);
      const float* src = m + ti * t.tw + tj;
      __m256 s[2][4];  // A^T m
      for (int c = 0; c < 4; ++c) {
        const __m256 m0 = load_first(src + (0 + c) * xi_stride, n);
        const __m256 m1 = load_first(src + (4 + c) * xi_stride, n);
        const __m256 m2 = load_first(src + (8 + c) * xi_stride, n);
        const __m256 m3 = load_first(src + (12 + c) * xi_stride, n);
        s[0][c] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
        s[1][c] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
      }
      const int64_t count = std::min(2 * n, t.w - 2 * tj);  // outputs in the plane's row
      for (int r = 0; r < 2 && 2 * ti + r < t.h; ++r) {
        const __m256 left =
            _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s[r][0], s[r][1]), s[r][2]), shift);
        const __m256 right =
            _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s[r][1], s[r][2]), s[r][3]), shift);
        // A tile's two outputs side by side: [l0 r0 l1 r1 | l4 r4 l5 r5] and [l2 r2 l3 r3 | ...],
        // then their 128-bit halves in order.
        const __m256 lo = _mm256_unpacklo_ps(left, right), hi = _mm256_unpackhi_ps(left, right);
        float* row = plane + (2 * ti + r) * t.w + 2 * tj;
        store_first(row, count, _mm256_permute2f128_ps(lo, hi, 0x20));
        store_first(row + 8, count - 8, _mm256_permute2f128_ps(lo, hi, 0x31));
      }
    }
  }
}

__attribute__((target("avx2"))) void transform_grad_output(const float* plane, const Tiling& t,
                                                           float* p, int64_t xi_stride) {
  for (int64_t ti = 0; ti < t.th; ++ti) {
    for (int64_t tj = 0; tj < t.tw; tj += 8) {
      const int64_t n = std::min<int64_t>(8, t.tw - tj);
      const int64_t count = std::min(2 * n, t.w - 2 * tj);  // floats of the plane's row
      __m256 dy[2][2];
      for (int r = 0; r < 2; ++r) {
        if (2 * ti + r >= t.h) {
          dy[r][0] = dy[r][1] = _mm256_setzero_ps();
          continue;
        }
        const float* src = plane + (2 * ti + r) * t.w + 2 * tj;
        dy[r][0] = every_other(src, count, false);
        dy[r][1] = every_other(src, count, true);
      }
      const __m256 zero = _mm256_setzero_ps();
      const __m256 q[4][2] = {
          {dy[0][0], dy[0][1]},
          {_mm256_add_ps(dy[0][0], dy[1][0]), _mm256_add_ps(dy[0][1], dy[1][1])},
          {_mm256_sub_ps(dy[0][0], dy[1][0]), _mm256_sub_ps(dy[0][1], dy[1][1])},
          {_mm256_sub_ps(zero, dy[1][0]), _mm256_sub_ps(zero, dy[1][1])}};
      float* out = p + ti * t.tw + tj;
      for (int r = 0; r < 4; ++r) {
        float* o = out + r * 4 * xi_stride;
        store_first(o, n, q[r][0]);
        store_first(o + xi_stride, n, _mm256_add_ps(q[r][0], q[r][1]));
        store_first(o + 2 * xi_stride, n, _mm256_sub_ps(q[r][0], q[r][1]));
        store_first(o + 3 * xi_stride, n, _mm256_sub_ps(zero, q[r][1]));
      }
    }
  }
}

}  // namespace

const Transforms kAvx2Transforms = {transform_input, transform_output, transform_grad_output};

}  // namespace nabla::cpu::winograd
