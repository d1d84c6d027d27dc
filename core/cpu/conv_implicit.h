// Convolutions with stride 1 and "same" padding as products over shifted windows of a padded
// copy of each plane, without im2col (Note [implicit GEMM] in conv_implicit.cpp). float32 on
// CPUs with AVX2 or AVX-512; conv.cpp falls back to im2col elsewhere. Private to core/cpu.
#pragma once

#include <cstdint>

#include "core/cpu/conv_geometry.h"

namespace nabla::cpu {

// Whether these kernels take the convolution: float32, AVX2 or AVX-512, a kernel larger than 1x1 (a
// pointwise one needs no copy at all), stride 1, no dilation, an output the input's size,
// planes of at least 16x16, at least 8 channels per group on both sides, and at least an image
// per thread (each thread runs its images with a single-threaded GEMM).
bool implicit_conv_applies(const ConvGeometry& g, DType dtype);

// The images [begin, end) of the batch, on the calling thread. bias may be null.
void implicit_conv2d(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                     float* y, int64_t begin, int64_t end);

// w_flipped from flip_for_backward_data.
void implicit_conv2d_backward_data(const ConvGeometry& g, const float* gy, const float* w_flipped,
                                   float* gx, int64_t begin, int64_t end);

// The weights of the convolution that computes the input gradient: per group, each output
// channel's kernel turned by 180 degrees and the two channel axes swapped,
// out[grp][c][o][ki][kj] = w[grp * Og + o][c][KH - 1 - ki][KW - 1 - kj].
void flip_for_backward_data(const ConvGeometry& g, const float* w, float* out);

// An output-gradient plane of rows x cols spread into rows `row_stride` apart, zeros in the
// columns past `cols` and up to `length`, to pair with the lines of a padded (or phase) plane in
// a weight-gradient product. Shared with the stride-2 kernels (conv_strided.cpp).
void spread_rows(const float* src, int64_t rows, int64_t cols, int64_t row_stride, int64_t length,
                 float* dst);

// Adds the images' weight gradient into gw: [O, Cg * KK], or its per-group transpose
// [Cg * KK, Og] when `transposed`, as conv.cpp's slots hold it.
void implicit_conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* gy,
                                     float* gw, bool transposed, int64_t begin, int64_t end);

}  // namespace nabla::cpu
