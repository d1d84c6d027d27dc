// The AVX-512 VNNI int8 kernel: vpdpbusd on 512-bit vectors sums four u8 * s8 products into each
// of 16 int32 lanes, exactly, for any 8-bit activations. One panel (Note [int8 layouts]) is one
// vector per group; the register tile is 8 rows by two panels, 16 accumulators of the 32
// registers, so that each broadcast feeds two multiply-adds and each panel load eight.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "quant/kernels/int8_epilogue.h"
#include "quant/kernels/int8_kernels.h"

// Every function below carries this target (per-function, as GCC and clang both allow); the
// rest of the build stays portable.
#define NABLA_INT8_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")))

// GCC 12.2's AVX-512 intrinsics start from a self-initialized "undefined" vector, which its
// -Wmaybe-uninitialized reports wherever they are inlined into a function of a wider target
// (GCC bug 105593, fixed in 12.3).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace nabla::quant::kernels {

namespace {

constexpr int64_t kTileRows = 8;
constexpr int64_t kRowBlockBytes = 128 * 1024;  // broadcast rows kept in L2

// A panel's 16 lanes at one group: one load where its halves are adjacent (packed panels), else
// two.
template <bool kAdjacent>
NABLA_INT8_TARGET inline __m512i load_panel(const uint8_t* const* half, int64_t at) {
  if (kAdjacent) return _mm512_loadu_si512(half[0] + at);
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(half[0] + at));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(half[1] + at));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

template <bool kRowsUnsigned, int kPanels, bool kAdjacent>
NABLA_INT8_TARGET inline void tile_accumulate(const uint8_t* const* rows,
                                              const uint8_t* const* half,
                                              const int64_t* group_offset, int64_t groups,
                                              __m512i out[kTileRows][2]) {
  __m512i acc[kTileRows][kPanels];
  const uint8_t* r[kTileRows];
#pragma GCC unroll 8
  for (int64_t i = 0; i < kTileRows; ++i) {
    r[i] = rows[i];
#pragma GCC unroll 2
    for (int j = 0; j < kPanels; ++j) acc[i][j] = _mm512_setzero_si512();
  }
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t at = group_offset ? group_offset[g] : 4 * kLanes * g;
    __m512i v[kPanels];
#pragma GCC unroll 2
    for (int j = 0; j < kPanels; ++j) v[j] = load_panel<kAdjacent>(half + 2 * j, at);
#pragma GCC unroll 8
    for (int64_t i = 0; i < kTileRows; ++i) {
      const __m512i b = _mm512_set1_epi32(static_cast<int32_t>(load_group(r[i] + 4 * g)));
#pragma GCC unroll 2
      for (int j = 0; j < kPanels; ++j) {
        acc[i][j] = kRowsUnsigned ? _mm512_dpbusd_epi32(acc[i][j], b, v[j])
                                  : _mm512_dpbusd_epi32(acc[i][j], v[j], b);
      }
    }
  }
#pragma GCC unroll 8
  for (int64_t i = 0; i < kTileRows; ++i)
#pragma GCC unroll 2
    for (int j = 0; j < kPanels; ++j) out[i][j] = acc[i][j];
}

// Epilogue (int8_kernels.h) for one row's 16 lanes of one panel, of which `lanes` are stored.
NABLA_INT8_TARGET inline void store_row(const Epilogue& e, int64_t r, int64_t l0, int64_t lanes,
                                        __m512i c) {
  const __mmask16 mask =
      lanes >= kLanes ? __mmask16(0xFFFF) : __mmask16((uint32_t{1} << lanes) - 1);
  const int64_t at = r * e.ld + l0;
  __m512 m = _mm512_setzero_ps(), o = m;
  if (e.channels_on_rows) {
    c = _mm512_sub_epi32(c, _mm512_set1_epi32(e.correction[r]));
    if (e.kind != Epilogue::Kind::int32) {
      m = _mm512_set1_ps(e.multiplier[r]);
      o = _mm512_set1_ps(e.offset[r]);
    }
  } else {
    c = _mm512_sub_epi32(c, _mm512_loadu_si512(e.correction + l0));
    if (e.kind != Epilogue::Kind::int32) {
      m = _mm512_loadu_ps(e.multiplier + l0);
      o = _mm512_loadu_ps(e.offset + l0);
    }
  }
  switch (e.kind) {
    case Epilogue::Kind::int32:
      _mm512_mask_storeu_epi32(static_cast<int32_t*>(e.out) + at, mask, c);
      return;
    case Epilogue::Kind::float32: {
      __m512 v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c), m, o);
      if (e.relu) v = _mm512_max_ps(v, _mm512_setzero_ps());
      _mm512_mask_storeu_ps(static_cast<float*>(e.out) + at, mask, v);
      return;
    }
    case Epilogue::Kind::uint8: {
      __m512 v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c), m, o);
      v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(e.lo)), _mm512_set1_ps(e.hi));
      const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(v), _mm512_set1_epi32(e.zero_point));
      // q lies in [0, 255]: keeping the low byte of each lane is exact.
      _mm_mask_storeu_epi8(static_cast<uint8_t*>(e.out) + at, mask, _mm512_cvtepi32_epi8(q));
      return;
    }
  }
}

template <bool kRowsUnsigned>
NABLA_INT8_TARGET void gemm_tiles(const Problem& p, int64_t row_begin, int64_t row_end,
                                  int64_t panel_begin, int64_t panel_end) {
  const int64_t block = std::max<int64_t>(
      kTileRows, kRowBlockBytes / std::max<int64_t>(4 * p.groups, 1) / kTileRows * kTileRows);
  for (int64_t r0 = row_begin; r0 < row_end; r0 += block) {
    const int64_t r1 = std::min(row_end, r0 + block);
    for (int64_t t = panel_begin; t < panel_end;) {
      const int panels = t + 1 < panel_end ? 2 : 1;
      const uint8_t* const* half = p.halves + 2 * t;
      bool adjacent = true;
      for (int j = 0; j < panels; ++j) adjacent = adjacent && half[2 * j + 1] == half[2 * j] + 32;
      for (int64_t r = r0; r < r1; r += kTileRows) {
        const int64_t rows = std::min(kTileRows, r1 - r);
        const uint8_t* row[kTileRows];
        for (int64_t i = 0; i < kTileRows; ++i)
          row[i] = p.row_data + (r + std::min(i, rows - 1)) * p.row_stride;
        __m512i acc[kTileRows][2];
        const int64_t* off = p.group_offset;
        if (panels == 2 && adjacent) {
          tile_accumulate<kRowsUnsigned, 2, true>(row, half, off, p.groups, acc);
        } else if (panels == 2) {
          tile_accumulate<kRowsUnsigned, 2, false>(row, half, off, p.groups, acc);
        } else if (adjacent) {
          tile_accumulate<kRowsUnsigned, 1, true>(row, half, off, p.groups, acc);
        } else {
          tile_accumulate<kRowsUnsigned, 1, false>(row, half, off, p.groups, acc);
        }
        for (int j = 0; j < panels; ++j) {
          const int64_t l0 = (t + j) * kLanes;
          const int64_t lanes = std::min(kLanes, p.lanes - l0);
          for (int64_t i = 0; i < rows; ++i) store_row(p.epilogue, r + i, l0, lanes, acc[i][j]);
        }
      }
      t += panels;
    }
  }
}

}  // namespace

NABLA_INT8_TARGET void gemm_avx512_vnni(const Problem& p, int64_t row_begin, int64_t row_end,
                                        int64_t panel_begin, int64_t panel_end) {
  if (p.rows_unsigned) {
    gemm_tiles<true>(p, row_begin, row_end, panel_begin, panel_end);
  } else {
    gemm_tiles<false>(p, row_begin, row_end, panel_begin, panel_end);
  }
}

}  // namespace nabla::quant::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
