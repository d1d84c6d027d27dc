// Helpers shared by the gradient rules in autograd/ops.
#pragma once

#include "autograd/node.h"
#include "core/ops.h"

namespace nabla::autograd {

// What a rule must know of an input to shape its gradient, without keeping the input alive.
struct Like {
  Shape shape;
  DType dtype;
  Device device;
  explicit Like(const Tensor& t) : shape(t.shape()), dtype(t.dtype()), device(t.device()) {}
  TensorOptions options() const { return {.dtype = dtype, .device = device}; }
};

// The gradient of an input that was broadcast (and maybe promoted) into the op's result:
// summed back to the input's shape and cast to its dtype.
Tensor unbroadcast(const Tensor& grad, const Like& input);

// The adjoint of a view: `grad` written into zeros shaped like the view's base, through the
// same view. Its own gradient is the view again, so `view` must be a differentiable op.
Tensor embed_into_zeros(const char* name, const Tensor& grad, const Like& base,
                        std::function<Tensor(const Tensor&)> view);

}  // namespace nabla::autograd
