// Differentiable 2-d convolution and pooling over NCHW tensors.
#pragma once

#include "core/backend.h"
#include "core/tensor.h"

namespace nabla {

// input [N, C, H, W], weight [O, C / groups, KH, KW], optional bias [O] -> [N, O, OH, OW].
//   conv2d(x, w, b, {.stride = {2, 2}, .padding = {1, 1}})
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
              const Conv2dParams& params = {});
// The two halves of conv2d's gradient, differentiable themselves (for double backward):
// the gradient w.r.t. the input of a convolution, and w.r.t. its weight.
Tensor conv2d_backward_data(const Tensor& grad_out, const Tensor& weight, const Shape& input_shape,
                            const Conv2dParams& params);
Tensor conv2d_backward_weight(const Tensor& input, const Tensor& grad_out,
                              const Shape& weight_shape, const Conv2dParams& params);

Tensor max_pool2d(const Tensor& x, const Pool2dParams& params);
// max_pool2d's gradient, from the indices of core::max_pool2d; differentiable in grad_out.
Tensor max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Shape& input_shape);
Tensor avg_pool2d(const Tensor& x, const Pool2dParams& params);
Tensor avg_pool2d_backward(const Tensor& grad_out, const Shape& input_shape,
                           const Pool2dParams& params);
// Square windows; stride defaults to the window size.
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride = 0, int64_t padding = 0);
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride = 0, int64_t padding = 0);

}  // namespace nabla
