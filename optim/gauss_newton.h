// Products with the generalized Gauss-Newton matrix G = J^T H_L J (Schraudolph, 2002) of a loss
// computed from a model's outputs z: J = dz/dθ, H_L the Hessian of the loss in z. G is positive
// semi-definite whenever the loss is convex in z (cross-entropy, squared error), which makes it
// the curvature of choice for conjugate gradient on neural networks (Martens, 2010).
#pragma once

#include <vector>

#include "core/tensor.h"

namespace nabla::optim {

// Built once per point θ, then applied to many vectors (one per conjugate-gradient iteration).
// With no forward-mode autograd, J v comes from reverse mode twice: J^T u is recorded for a
// dummy u, and J v = d(v · J^T u)/du.
class GaussNewtonProduct {
 public:
  // outputs (any shape) and the scalar loss computed from them, both still holding their
  // graphs back to `params` (leaves that require grad; those the outputs do not use get zero).
  GaussNewtonProduct(const Tensor& outputs, const Tensor& loss, std::vector<Tensor> params);

  // G v, one tensor per parameter; v is shaped like the parameters.
  std::vector<Tensor> operator()(const std::vector<Tensor>& v) const;
  // J v: the outputs' change along v, shaped like the outputs.
  Tensor jacobian_vector(const std::vector<Tensor>& v) const;

 private:
  Tensor outputs_;
  std::vector<Tensor> params_;
  Tensor dummy_;                          // u, zeros shaped like the outputs
  std::vector<Tensor> jacobian_t_dummy_;  // J^T u, recorded (undefined where unused)
  Tensor loss_gradient_;                  // dL/dz, recorded, so that H_L w = d(w · dL/dz)/dz
};

}  // namespace nabla::optim
