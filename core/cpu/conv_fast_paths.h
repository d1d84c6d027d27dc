// The float32 convolution kernels that beat im2col where they apply: Winograd F(2x2, 3x3)
// (conv_winograd.h) for 3x3 kernels with enough channels, else the implicit GEMM
// (conv_implicit.h) for "same" convolutions on larger planes. Each returns false, doing
// nothing, where neither applies; conv.cpp then runs im2col. Private to core/cpu.
#pragma once

#include <cstdint>

#include "core/cpu/conv_geometry.h"

namespace nabla::cpu {

bool fast_conv2d(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                 float* y);

bool fast_conv2d_backward_data(const ConvGeometry& g, const float* gy, const float* w, float* gx);

// Adds each thread's images into its slot, slots[thread * slot_size ...], laid out as conv.cpp's
// backward weight reads them ([O, Cg * KK] per group, or its per-group transpose when
// `transposed`).
bool fast_conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* gy,
                                 float* slots, int64_t slot_size, bool transposed);

}  // namespace nabla::cpu
