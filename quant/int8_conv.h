// Quantized 2-d convolution, NCHW: uint8 activations and a packed int8 weight through im2col and
// the int8 kernels, summed exactly in int32, with the requantization fused into the output.
#pragma once

#include <cstdint>

#include "core/backend.h"
#include "core/tensor.h"
#include "quant/int8_dispatch.h"
#include "quant/int8_requant.h"
#include "quant/int8_weight.h"

namespace nabla::quant {

// x: uint8 [N, C, H, W], quantized with (x_scale, x_zero_point); w: a convolution's weight
// [O, C / groups, KH, KW] packed by PackedInt8Weight with p.groups groups; bias: undefined or
// float32 [O]. Returns [N, O, OH, OW], uint8 or float32 as `out` says (int8_requant.h). Padding
// reads as x_zero_point, the quantized 0.0. `kernel` as in int8_linear.
Tensor int8_conv2d(const Tensor& x, int64_t x_zero_point, float x_scale, const PackedInt8Weight& w,
                   const Tensor& bias, const Conv2dParams& p, const Requantization& out,
                   Int8Kernel kernel = Int8Kernel::automatic);

// The exact int32 sums [N, O, OH, OW] of (x - x_zero_point) * w over each window.
Tensor int8_conv2d_int32(const Tensor& x, int64_t x_zero_point, const PackedInt8Weight& w,
                         const Conv2dParams& p, Int8Kernel kernel = Int8Kernel::automatic);

}  // namespace nabla::quant
