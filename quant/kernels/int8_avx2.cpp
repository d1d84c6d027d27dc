// The AVX2 int8 kernels, for CPUs without VNNI: one on 7-bit activations with vpmaddubsw, one
// exact for any 8-bit values with int16 operands and vpmaddwd.
//
// vpmaddubsw multiplies u8 by s8 and adds adjacent products into a saturating int16: with
// activations up to 255 and weights in [-127, 127] a pair reaches 2 * 255 * 127 = 64770 and
// saturates, so gemm_avx2_u7 is exact only when the activations lie in [0, 127] (quantized with
// reduce_range); the driver checks the input and takes gemm_avx2_exact otherwise. The exact
// kernel widens both sides to int16 when packing (Format::pairs) and multiplies with vpmaddwd,
// whose pairs of products sum in int32. Both do one multiply per 16 products (vpmaddubsw's 32
// products need a second multiply, vpmaddwd with ones, to reach int32), so they run at the same
// peak; the 7-bit kernel moves half the bytes.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "quant/kernels/int8_epilogue.h"
#include "quant/kernels/int8_kernels.h"

// The shared tile and everything below carry this target (int8_avx2_tile.h says why).
#define NABLA_INT8_TARGET __attribute__((target("avx2,fma")))
#include "quant/kernels/int8_avx2_tile.h"

namespace nabla::quant::kernels {

namespace {

template <bool kRowsUnsigned>
struct MaddubsMac {
  NABLA_INT8_TARGET static inline __m256i mac(__m256i acc, __m256i row, __m256i lanes) {
    const __m256i pairs =
        kRowsUnsigned ? _mm256_maddubs_epi16(row, lanes) : _mm256_maddubs_epi16(lanes, row);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
  }
};

struct MaddwdMac {
  NABLA_INT8_TARGET static inline __m256i mac(__m256i acc, __m256i row, __m256i lanes) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(row, lanes));
  }
};

}  // namespace

NABLA_INT8_TARGET void gemm_avx2_u7(const Problem& p, int64_t row_begin, int64_t row_end,
                                    int64_t panel_begin, int64_t panel_end) {
  if (p.rows_unsigned) {
    gemm_tiles<MaddubsMac<true>>(p, row_begin, row_end, panel_begin, panel_end);
  } else {
    gemm_tiles<MaddubsMac<false>>(p, row_begin, row_end, panel_begin, panel_end);
  }
}

NABLA_INT8_TARGET void gemm_avx2_exact(const Problem& p, int64_t row_begin, int64_t row_end,
                                       int64_t panel_begin, int64_t panel_end) {
  // Linear layers' int16 activation rows take 6 rows a tile (12 accumulators), which measured
  // about 1.2x faster than 4 on Zen 3; convolutions keep 4, which divides their channel counts.
  if (p.rows_unsigned) {
    gemm_tiles<MaddwdMac, 6>(p, row_begin, row_end, panel_begin, panel_end);
  } else {
    gemm_tiles<MaddwdMac, 4>(p, row_begin, row_end, panel_begin, panel_end);
  }
}

}  // namespace nabla::quant::kernels
