// The int8 convolution's column matrix: one image laid out in channel blocks, which the kernels
// read as panels of output pixels (Note [int8 layouts] in int8_kernels.h), in place at stride 1,
// else copied out by im2col. Private to quant/.
#pragma once

#include <cstdint>

#include "quant/kernels/int8_kernels.h"

namespace nabla::quant::kernels {

// Note [int8 convolution depth order]
// A group (4 values, or 2 as int16) of a convolution's depth is 4 (or 2) input channels at one
// kernel offset, not 4 consecutive entries of the weight's [C, KH, KW] order: group
// (cb * kh + ki) * kw + kj holds channels cb * per + j (j < per) at offset (ki, kj), with zero
// weights for channels past c. The image is first laid out as blocks of `per` channels,
// [c / per][h + 2 * pad][w + 2 * pad] groups with the padding filled in (block_image); then a
// panel's 16 pixels at one group are 16 groups of that image, contiguous for 16 (or twice 8)
// pixels of one output row at stride 1: im2col copies 64 (or 32) bytes at a time.

// One group of one image: c input channels of h x w, a kh x kw kernel, an oh x ow output.
struct Im2colShape {
  int64_t c, h, w, kh, kw, oh, ow;
  int64_t stride[2], padding[2], dilation[2];

  int64_t pixels() const { return oh * ow; }
  int64_t padded_h() const { return h + 2 * padding[0]; }
  int64_t padded_w() const { return w + 2 * padding[1]; }
};

// Groups along a convolution's depth (Note [int8 convolution depth order]).
inline int64_t conv_depth_groups(int64_t c, int64_t kh, int64_t kw, Format format) {
  const int64_t per = depth_per_group(format);
  return (c + per - 1) / per * kh * kw;
}

// Bytes block_image writes.
inline int64_t blocked_image_bytes(const Im2colShape& s, Format format) {
  const int64_t per = depth_per_group(format);
  return 4 * ((s.c + per - 1) / per) * s.padded_h() * s.padded_w();
}

// w: [rows, c, kh, kw] int8 as packed rows in the depth order above (row stride
// 4 * conv_depth_groups bytes).
void pack_conv_weight_rows(const int8_t* w, int64_t rows, int64_t c, int64_t kh, int64_t kw,
                           Format format, uint8_t* out);

// x: [c, h, w] uint8 as channel blocks with the padding, which reads `zero_point` (so that it
// means 0.0, as for the float convolution).
void block_image(const uint8_t* x, const Im2colShape& s, uint8_t zero_point, Format format,
                 uint8_t* out);

// Byte offsets in block_image's output: of each depth group's value relative to a pixel's window
// origin (out[groups]), and of output pixel p's window origin.
void blocked_group_offsets(const Im2colShape& s, Format format, int64_t* out);
inline int64_t blocked_pixel_origin(const Im2colShape& s, int64_t p) {
  return 4 * ((p / s.ow) * s.stride[0] * s.padded_w() + (p % s.ow) * s.stride[1]);
}
// Whether panels can be read straight from block_image's output: each half of a panel is then 8
// pixels of one output row at stride 1, 8 adjacent groups.
inline bool panels_in_place(const Im2colShape& s) {
  return s.stride[1] == 1 && s.ow % kHalfLanes == 0;
}

// Panels [panel_begin, panel_end) of the column matrix, from block_image's output; out holds
// them from its start, panel_bytes(4 * conv_depth_groups) bytes apart. Lanes past the last pixel
// repeat pixel 0.
void im2col_panels(const uint8_t* blocked, const Im2colShape& s, Format format, int64_t panel_begin,
                   int64_t panel_end, uint8_t* out);

}  // namespace nabla::quant::kernels
