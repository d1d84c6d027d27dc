// Packing a linear layer's operands into the kernels' layouts (Note [int8 layouts] in
// int8_kernels.h): its activations as rows, its weights as panels. A convolution's are packed by
// int8_im2col.h. Private to quant/.
#pragma once

#include <cstdint>

#include "quant/kernels/int8_kernels.h"

namespace nabla::quant::kernels {

// Bytes of one packed row, and of one panel, for `depth` values.
inline int64_t row_bytes(int64_t depth, Format format) { return 4 * depth_groups(depth, format); }
inline int64_t panel_bytes(int64_t depth, Format format) {
  return 4 * kLanes * depth_groups(depth, format);
}

// rows x depth uint8 values (row r at src + r * ld) as packed rows, out[r * row_bytes + ...]:
// quads copy the bytes, pairs widen each value to int16; the depth is padded with zeros.
void pack_rows(const uint8_t* src, int64_t rows, int64_t depth, int64_t ld, Format format,
               uint8_t* out);

// lanes x depth values (lane l at src + l * ld) as panel_count(lanes) panels, zeros past the
// last lane and the depth.
void pack_panels(const int8_t* src, int64_t lanes, int64_t depth, int64_t ld, Format format,
                 uint8_t* out);

}  // namespace nabla::quant::kernels
