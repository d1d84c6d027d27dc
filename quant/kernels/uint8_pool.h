// Pooling on uint8 planes: max pooling (exact: the order of uint8 values is that of the reals
// they stand for) and global average pooling (the mean rounded, half to even).
#pragma once

#include <cstdint>

#include "core/backend.h"
#include "core/tensor.h"

namespace nabla::quant::kernels {

// x: uint8 [N, C, H, W] -> [N, C, OH, OW] (core::pool2d_output_shape); padded positions never
// win, as in float max pooling.
Tensor uint8_max_pool2d(const Tensor& x, const Pool2dParams& p);

// x: uint8 [N, C, H, W] -> [N, C, 1, 1]: nearbyint(sum / (H * W)) of each plane.
Tensor uint8_global_avg_pool2d(const Tensor& x);

}  // namespace nabla::quant::kernels
