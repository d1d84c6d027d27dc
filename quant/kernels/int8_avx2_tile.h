// The register tile, fused output step and blocked loop that the 256-bit int8 kernels share
// (int8_avx2.cpp, int8_avx_vnni.cpp); each brings the multiply-add of one group (a Mac).
//
// Included by those files only, each defining NABLA_INT8_TARGET first as the target attribute of
// its instruction sets, which every function here carries (GCC and clang both take per-function
// targets; the rest of the build stays portable). The anonymous namespace gives each file its own
// copy, so that the linker never picks a copy compiled for a wider set for another file.
#pragma once

#ifndef NABLA_INT8_TARGET
#error "define NABLA_INT8_TARGET before including int8_avx2_tile.h"
#endif

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "quant/kernels/int8_epilogue.h"
#include "quant/kernels/int8_kernels.h"

namespace nabla::quant::kernels {
namespace {

// A Mac has `static __m256i mac(__m256i acc, __m256i row, __m256i lanes)`: acc plus, in each of
// the 8 lanes, the dot product of the broadcast row group with the lane's group.

// Rows of the register tile, by default: 4 rows of 16 lanes are 8 accumulators, of the 16
// registers, beside the two panel vectors and the broadcast, and 4 divides the channel counts of
// convolutions. At most 6 (12 accumulators) fit.
constexpr int64_t kDefaultTileRows = 4;
// Rows of the broadcast side kept hot while the panels stream past them (L2).
constexpr int64_t kRowBlockBytes = 128 * 1024;

// The accumulators are locals, copied out once: GCC keeps them in registers then, where writing
// through the output array inside the loop made it spill and copy them at every step.
template <class Mac, bool kPacked, int64_t kTileRows>
NABLA_INT8_TARGET inline void tile_accumulate(const uint8_t* const* rows, const uint8_t* half0,
                                              const uint8_t* half1, const int64_t* group_offset,
                                              int64_t groups, __m256i out[][2]) {
  __m256i a[kTileRows][2];
  const uint8_t* r[kTileRows];
#pragma GCC unroll 8
  for (int64_t i = 0; i < kTileRows; ++i) {
    r[i] = rows[i];
    a[i][0] = a[i][1] = _mm256_setzero_si256();
  }
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t at = kPacked ? 4 * kLanes * g : group_offset[g];
    const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(half0 + at));
    const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(half1 + at));
#pragma GCC unroll 8
    for (int64_t i = 0; i < kTileRows; ++i) {
      const __m256i b = _mm256_set1_epi32(static_cast<int32_t>(load_group(r[i] + 4 * g)));
      a[i][0] = Mac::mac(a[i][0], b, v0);
      a[i][1] = Mac::mac(a[i][1], b, v1);
    }
  }
#pragma GCC unroll 8
  for (int64_t i = 0; i < kTileRows; ++i) {
    out[i][0] = a[i][0];
    out[i][1] = a[i][1];
  }
}

// Epilogue (int8_kernels.h) for one row's 16 lanes, of which `lanes` are stored.
NABLA_INT8_TARGET inline void store_row(const Epilogue& e, int64_t r, int64_t l0, int64_t lanes,
                                        __m256i c0, __m256i c1) {
  const int64_t at = r * e.ld + l0;
  __m256i corr0, corr1;
  __m256 m0 = _mm256_setzero_ps(), m1 = m0, o0 = m0, o1 = m0;
  if (e.channels_on_rows) {
    corr0 = corr1 = _mm256_set1_epi32(e.correction[r]);
    if (e.kind != Epilogue::Kind::int32) {
      m0 = m1 = _mm256_set1_ps(e.multiplier[r]);
      o0 = o1 = _mm256_set1_ps(e.offset[r]);
    }
  } else {
    corr0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(e.correction + l0));
    corr1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(e.correction + l0 + 8));
    if (e.kind != Epilogue::Kind::int32) {
      m0 = _mm256_loadu_ps(e.multiplier + l0);
      m1 = _mm256_loadu_ps(e.multiplier + l0 + 8);
      o0 = _mm256_loadu_ps(e.offset + l0);
      o1 = _mm256_loadu_ps(e.offset + l0 + 8);
    }
  }
  c0 = _mm256_sub_epi32(c0, corr0);
  c1 = _mm256_sub_epi32(c1, corr1);
  switch (e.kind) {
    case Epilogue::Kind::int32: {
      int32_t* out = static_cast<int32_t*>(e.out) + at;
      if (lanes == kLanes) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), c0);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), c1);
      } else {
        alignas(32) int32_t tmp[kLanes];
        _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), c0);
        _mm256_store_si256(reinterpret_cast<__m256i*>(tmp + 8), c1);
        std::memcpy(out, tmp, sizeof(int32_t) * size_t(lanes));
      }
      return;
    }
    case Epilogue::Kind::float32: {
      __m256 v0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c0), m0, o0);
      __m256 v1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c1), m1, o1);
      if (e.relu) {
        v0 = _mm256_max_ps(v0, _mm256_setzero_ps());
        v1 = _mm256_max_ps(v1, _mm256_setzero_ps());
      }
      float* out = static_cast<float*>(e.out) + at;
      if (lanes == kLanes) {
        _mm256_storeu_ps(out, v0);
        _mm256_storeu_ps(out + 8, v1);
      } else {
        alignas(32) float tmp[kLanes];
        _mm256_store_ps(tmp, v0);
        _mm256_store_ps(tmp + 8, v1);
        std::memcpy(out, tmp, sizeof(float) * size_t(lanes));
      }
      return;
    }
    case Epilogue::Kind::uint8: {
      const __m256 lo = _mm256_set1_ps(e.lo), hi = _mm256_set1_ps(e.hi);
      const __m256i zp = _mm256_set1_epi32(e.zero_point);
      __m256 v0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c0), m0, o0);
      __m256 v1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c1), m1, o1);
      v0 = _mm256_min_ps(_mm256_max_ps(v0, lo), hi);
      v1 = _mm256_min_ps(_mm256_max_ps(v1, lo), hi);
      const __m256i q0 = _mm256_add_epi32(_mm256_cvtps_epi32(v0), zp);
      const __m256i q1 = _mm256_add_epi32(_mm256_cvtps_epi32(v1), zp);
      // [q0 0-3, q1 0-3 | q0 4-7, q1 4-7] as int16, the 64-bit quarters put in order, then bytes;
      // the values lie in [0, 255], so the saturating packs keep them.
      const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8);
      const __m128i bytes =
          _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
      uint8_t* out = static_cast<uint8_t*>(e.out) + at;
      if (lanes == kLanes) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out), bytes);
      } else {
        alignas(16) uint8_t tmp[kLanes];
        _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
        std::memcpy(out, tmp, size_t(lanes));
      }
      return;
    }
  }
}

// The kernel entry (KernelFn): row blocks that stay in L2, each swept by every panel, each panel
// (in L1) by the block's row tiles. A last, partial tile repeats its last row, whose results are
// not stored, so that the tile always has its full shape.
template <class Mac, int64_t kTileRows = kDefaultTileRows>
NABLA_INT8_TARGET void gemm_tiles(const Problem& p, int64_t row_begin, int64_t row_end,
                                  int64_t panel_begin, int64_t panel_end) {
  const int64_t block = std::max<int64_t>(
      kTileRows, kRowBlockBytes / std::max<int64_t>(4 * p.groups, 1) / kTileRows * kTileRows);
  for (int64_t r0 = row_begin; r0 < row_end; r0 += block) {
    const int64_t r1 = std::min(row_end, r0 + block);
    for (int64_t t = panel_begin; t < panel_end; ++t) {
      const uint8_t* const* half = p.halves + 2 * t;
      const int64_t lanes = std::min(kLanes, p.lanes - t * kLanes);
      for (int64_t r = r0; r < r1; r += kTileRows) {
        const int64_t rows = std::min(kTileRows, r1 - r);
        const uint8_t* row[kTileRows];
        for (int64_t i = 0; i < kTileRows; ++i)
          row[i] = p.row_data + (r + std::min(i, rows - 1)) * p.row_stride;
        __m256i acc[kTileRows][2];
        if (p.group_offset) {
          tile_accumulate<Mac, false, kTileRows>(row, half[0], half[1], p.group_offset, p.groups,
                                                 acc);
        } else {
          tile_accumulate<Mac, true, kTileRows>(row, half[0], half[1], nullptr, p.groups, acc);
        }
        for (int64_t i = 0; i < rows; ++i)
          store_row(p.epilogue, r + i, t * kLanes, lanes, acc[i][0], acc[i][1]);
      }
    }
  }
}

}  // namespace
}  // namespace nabla::quant::kernels
