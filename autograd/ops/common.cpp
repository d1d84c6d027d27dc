// Shared gradient-rule helpers.
#include "autograd/ops/common.h"

#include "autograd/grad_mode.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"

namespace nabla::autograd {

Tensor unbroadcast(const Tensor& grad, const Like& input) {
  Tensor g = sum_to(grad, input.shape);
  return g.dtype() == input.dtype ? g : to(g, input.dtype);
}

Tensor embed_into_zeros(const char* name, const Tensor& grad, const Like& base,
                        std::function<Tensor(const Tensor&)> view) {
  Tensor out = zeros(base.shape, base.options());
  {
    NoGradGuard no_grad;
    core::copy_(view(out), grad);
  }
  return record(name, out, {grad},
                [view](const BackwardContext& c) -> std::vector<Tensor> { return {view(c.grad)}; });
}

}  // namespace nabla::autograd
