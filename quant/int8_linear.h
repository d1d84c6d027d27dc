// Quantized matrix products for linear layers: uint8 activations times a packed int8 weight,
// summed exactly in int32, with the requantization (or dequantization) fused into the output.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "quant/int8_dispatch.h"
#include "quant/int8_requant.h"
#include "quant/int8_weight.h"

namespace nabla::quant {

// x: uint8 [..., K], the activations quantized with (x_scale, x_zero_point); w: a linear weight
// [N, K] packed by PackedInt8Weight; bias: undefined or float32 [N]. Returns [..., N], uint8 or
// float32 as `out` says (int8_requant.h). `kernel` forces one kernel (the tests go through them
// all); automatic picks the fastest exact one.
Tensor int8_linear(const Tensor& x, int64_t x_zero_point, float x_scale, const PackedInt8Weight& w,
                   const Tensor& bias, const Requantization& out,
                   Int8Kernel kernel = Int8Kernel::automatic);

// The exact int32 products [..., N]: out[m][n] = sum_k (x[m][k] - x_zero_point) * W[n][k].
Tensor int8_matmul_int32(const Tensor& x, int64_t x_zero_point, const PackedInt8Weight& w,
                         Int8Kernel kernel = Int8Kernel::automatic);

}  // namespace nabla::quant
