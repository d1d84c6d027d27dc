// The AVX-VNNI int8 kernel (256-bit vpdpbusd, on CPUs from Alder Lake and Zen 5): one instruction
// sums four u8 * s8 products into each int32 lane, exactly, for any 8-bit activations. The tile
// and loops are the AVX2 kernels' (int8_avx2_tile.h).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "quant/kernels/int8_epilogue.h"
#include "quant/kernels/int8_kernels.h"

// The shared tile and everything below carry this target (int8_avx2_tile.h says why).
#define NABLA_INT8_TARGET __attribute__((target("avx2,fma,avxvnni")))
#include "quant/kernels/int8_avx2_tile.h"

namespace nabla::quant::kernels {

namespace {

// vpdpbusd takes the unsigned bytes first.
template <bool kRowsUnsigned>
struct DpbusdMac {
  NABLA_INT8_TARGET static inline __m256i mac(__m256i acc, __m256i row, __m256i lanes) {
    return kRowsUnsigned ? _mm256_dpbusd_avx_epi32(acc, row, lanes)
                         : _mm256_dpbusd_avx_epi32(acc, lanes, row);
  }
};

}  // namespace

NABLA_INT8_TARGET void gemm_avx_vnni(const Problem& p, int64_t row_begin, int64_t row_end,
                                     int64_t panel_begin, int64_t panel_end) {
  if (p.rows_unsigned) {
    gemm_tiles<DpbusdMac<true>>(p, row_begin, row_end, panel_begin, panel_end);
  } else {
    gemm_tiles<DpbusdMac<false>>(p, row_begin, row_end, panel_begin, panel_end);
  }
}

}  // namespace nabla::quant::kernels
