// Each entry of C = op(A) @ op(B) as a dot product of two contiguous runs of the depth, for
// products such as a convolution's weight gradient: few columns (the input channels) and a depth
// of every pixel in the batch. The packed GEMM (sgemm_avx512.cpp) fills its 32-column panels
// with zeros there and transposes B into them, so half its multiplications or more are wasted;
// here a 4 x 4 block of C keeps 16 accumulators of 16 lanes, each step loads 8 vectors for 16
// FMAs, nothing is packed, and the lanes are summed once per block of depth.
#include "core/cpu/sgemm_dot_avx512.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>

#include "core/cpu/avx512_lanes.h"

namespace nabla::cpu {

namespace {

constexpr int kBlock = 4;         // rows of A and of op(B)'s columns per block of C
constexpr int64_t kDepth = 1024;  // depth per pass: a block's 8 runs (32 KiB) stay in L1

// Where the depth of row i of op(A), or of column j of op(B), starts.
inline const float* depth_run(const GemmOperand& x, int64_t i) {
  return x.lines ? x.lines[i] : x.data + i * x.ld;
}

// The sum of v's 16 lanes: halves, quarters, pairs and neighbours folded onto each other (the
// maskz forms, since GCC 12 warns that the plain ones read an uninitialized vector).
__attribute__((target("avx512f"))) inline float lane_sum(__m512 v) {
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, 0x4E));
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, 0xB1));
  v = _mm512_add_ps(v, _mm512_maskz_permute_ps(0xFFFF, v, 0x4E));
  v = _mm512_add_ps(v, _mm512_maskz_permute_ps(0xFFFF, v, 0xB1));
  return _mm512_cvtss_f32(v);
}

// dots[r][s] = the dot product of a[r] and b[s] over kc values.
template <int R, int S>
__attribute__((target("avx512f"))) void dot_block(int64_t kc, const float* const* a,
                                                  const float* const* b,
                                                  float dots[kBlock][kBlock]) {
  __m512 acc[R][S];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s) acc[r][s] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; p += 16) {
    const __mmask16 lanes = low_bits(kc - p);
    __m512 bv[S];
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s) bv[s] = _mm512_maskz_loadu_ps(lanes, b[s] + p);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_maskz_loadu_ps(lanes, a[r] + p);
#pragma GCC unroll 4
      for (int s = 0; s < S; ++s) acc[r][s] = _mm512_fmadd_ps(av, bv[s], acc[r][s]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s) dots[r][s] = lane_sum(acc[r][s]);
}

using DotBlock = void (*)(int64_t, const float* const*, const float* const*, float[kBlock][kBlock]);

template <int R, int... S>
constexpr auto block_row(std::integer_sequence<int, S...>) {
  return std::array<DotBlock, kBlock>{&dot_block<R, S + 1>...};
}
template <int... R>
constexpr auto block_table(std::integer_sequence<int, R...>) {
  return std::array<std::array<DotBlock, kBlock>, kBlock>{
      block_row<R + 1>(std::make_integer_sequence<int, kBlock>())...};
}
// kBlocks[R - 1][S - 1] computes an R x S block, for the edges of C.
constexpr auto kBlocks = block_table(std::make_integer_sequence<int, kBlock>());

}  // namespace

void sgemm_dot_avx512(int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a,
                      const GemmOperand& b, float beta, float* c, int64_t ldc) {
  for (int64_t p0 = 0; p0 < k; p0 += kDepth) {
    const int64_t kc = std::min(kDepth, k - p0);
    const float block_beta = p0 == 0 ? beta : 1.0f;
    for (int64_t i = 0; i < m; i += kBlock) {
      const int rows = int(std::min<int64_t>(kBlock, m - i));
      const float* a_runs[kBlock];
      for (int r = 0; r < rows; ++r) a_runs[r] = depth_run(a, i + r) + p0;
      for (int64_t j = 0; j < n; j += kBlock) {
        const int cols = int(std::min<int64_t>(kBlock, n - j));
        const float* b_runs[kBlock];
        for (int s = 0; s < cols; ++s) b_runs[s] = depth_run(b, j + s) + p0;
        float dots[kBlock][kBlock];
        kBlocks[rows - 1][cols - 1](kc, a_runs, b_runs, dots);
        for (int r = 0; r < rows; ++r) {
          float* cr = c + (i + r) * ldc + j;
          for (int s = 0; s < cols; ++s)
            cr[s] = alpha * dots[r][s] + (block_beta == 0 ? 0.0f : block_beta * cr[s]);
        }
      }
    }
  }
}

}  // namespace nabla::cpu
