// The portable int8 kernel: plain integer loops over the quads layout (Note [int8 layouts]), for
// CPUs without AVX2 and as the tests' second opinion on the vector kernels.
#include <algorithm>

#include "quant/kernels/int8_epilogue.h"
#include "quant/kernels/int8_kernels.h"

namespace nabla::quant::kernels {

namespace {

// sum over four bytes of u8 * s8.
inline int32_t dot_quad(uint32_t unsigned_quad, uint32_t signed_quad) {
  int32_t sum = 0;
  for (int j = 0; j < 4; ++j) {
    const int32_t u = static_cast<uint8_t>(unsigned_quad >> (8 * j));
    const int32_t s = static_cast<int8_t>(static_cast<uint8_t>(signed_quad >> (8 * j)));
    sum += u * s;
  }
  return sum;
}

}  // namespace

void gemm_scalar(const Problem& p, int64_t row_begin, int64_t row_end, int64_t panel_begin,
                 int64_t panel_end) {
  const Epilogue& e = p.epilogue;
  for (int64_t t = panel_begin; t < panel_end; ++t) {
    const uint8_t* const* half = p.halves + 2 * t;
    const int64_t lanes = std::min(kLanes, p.lanes - t * kLanes);
    for (int64_t r = row_begin; r < row_end; ++r) {
      const uint8_t* row = p.row_data + r * p.row_stride;
      for (int64_t l = 0; l < lanes; ++l) {
        int32_t sum = 0;
        for (int64_t g = 0; g < p.groups; ++g) {
          const uint32_t a = load_group(row + 4 * g);
          const uint32_t b =
              load_group(half[l / kHalfLanes] + (p.group_offset ? p.group_offset[g] : 64 * g) +
                         4 * (l % kHalfLanes));
          sum += p.rows_unsigned ? dot_quad(a, b) : dot_quad(b, a);
        }
        const int64_t lane = t * kLanes + l;
        scalar_output(e, r, lane, e.channels_on_rows ? r : lane, sum);
      }
    }
  }
}

}  // namespace nabla::quant::kernels
