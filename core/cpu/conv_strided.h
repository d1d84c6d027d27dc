// Convolutions with stride 2 as products over the four phase planes of each input plane, without
// im2col (Note [phase planes] in conv_strided.cpp). float32 on CPUs with AVX2 or AVX-512; conv.cpp
// falls back to im2col elsewhere. Private to core/cpu.
#pragma once

#include <cstdint>

#include "core/cpu/conv_geometry.h"

namespace nabla::cpu {

// Whether these kernels take the convolution: float32, AVX2 or AVX-512, stride 2 on both axes, no
// dilation, one group, at least 8 channels on both sides, and at least an image per thread (each
// thread runs its images with a single-threaded GEMM).
bool strided_conv_applies(const ConvGeometry& g, DType dtype);

// The images [begin, end) of the batch, on the calling thread. bias may be null.
void strided_conv2d(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                    float* y, int64_t begin, int64_t end);

// Writes every value of the images' input gradient.
void strided_conv2d_backward_data(const ConvGeometry& g, const float* gy, const float* w, float* gx,
                                  int64_t begin, int64_t end);

// Adds the images' weight gradient into gw: [O, C * KK], or [C * KK, O] when `transposed`.
void strided_conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* gy,
                                    float* gw, bool transposed, int64_t begin, int64_t end);

}  // namespace nabla::cpu
