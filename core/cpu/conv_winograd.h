// 3x3 convolutions with stride 1 and padding 1 by Winograd's minimal filtering F(2x2, 3x3)
// (Note [Winograd] in conv_winograd.cpp): 16 multiplications per 2x2 outputs instead of 36.
// float32 on CPUs with AVX2 or AVX-512; conv.cpp falls back to the other kernels elsewhere. Private
// to core/cpu.
#pragma once

#include <cstdint>

#include "core/cpu/conv_geometry.h"

namespace nabla::cpu {

// Whether these kernels take the convolution: float32, AVX2 or AVX-512, a 3x3 kernel with stride 1,
// padding 1 and no dilation, one group, at least 16 channels on both sides (the products are
// [O, C] by [C, tiles]: shallower ones run below the GEMM's peak), planes up to 64x64, and an
// image per thread.
bool winograd_applies(const ConvGeometry& g, DType dtype);

// The transformed kernels of 3x3 kernels w [out][in][3][3]: 16 matrices [out][in], one per
// transform position, winograd_weight_stride() floats apart (a little more than their size).
int64_t winograd_weight_stride(int64_t out_channels, int64_t in_channels);
void winograd_transform_weights(const float* w, int64_t out_channels, int64_t in_channels,
                                float* u);

// The images [begin, end) of the batch, on the calling thread: out [N, out_channels, H, W] from
// in [N, in_channels, H, W] and transformed kernels u. bias may be null. With u from
// flip_for_backward_data's kernels (conv_implicit.h), this is the input gradient.
void winograd_conv2d(const ConvGeometry& g, const float* in, int64_t in_channels, const float* u,
                     int64_t out_channels, const float* bias, float* out, int64_t begin,
                     int64_t end);

// Adds the images' weight gradient into gw: [O, C * 9], or [C * 9, O] when `transposed`, as
// conv.cpp's slots hold it.
void winograd_conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* gy,
                                     float* gw, bool transposed, int64_t begin, int64_t end);

}  // namespace nabla::cpu
