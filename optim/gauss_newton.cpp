// Gauss-Newton-vector products by three reverse passes: J v, then H_L (J v), then J^T (H_L J v).
#include "optim/gauss_newton.h"

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"
#include "core/creation.h"

namespace nabla::optim {

GaussNewtonProduct::GaussNewtonProduct(const Tensor& outputs, const Tensor& loss,
                                       std::vector<Tensor> params)
    : outputs_(outputs), params_(std::move(params)) {
  NABLA_CHECK(outputs.defined() && outputs.requires_grad(), AutogradError,
              "GaussNewtonProduct: the outputs must hold their graph back to the parameters");
  NABLA_CHECK(loss.defined() && loss.numel() == 1, ShapeError,
              "GaussNewtonProduct: the loss must be one value, got shape ",
              loss.defined() ? loss.shape() : Shape{});
  GradModeGuard recording(true);
  dummy_ = zeros_like(outputs).requires_grad_();
  jacobian_t_dummy_ =
      autograd::grad({outputs_}, params_, {dummy_}, {.create_graph = true, .allow_unused = true});
  loss_gradient_ = autograd::grad({loss}, {outputs_}, {}, {.create_graph = true})[0];
}

Tensor GaussNewtonProduct::jacobian_vector(const std::vector<Tensor>& v) const {
  NABLA_CHECK(v.size() == params_.size(), ValueError, "GaussNewtonProduct: ", v.size(),
              " vectors for ", params_.size(), " parameters");
  GradModeGuard recording(true);
  Tensor directional;  // v · J^T u, linear in u
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!jacobian_t_dummy_[i].defined()) continue;
    NABLA_CHECK(v[i].shape() == params_[i].shape(), ShapeError, "GaussNewtonProduct: vector ", i,
                " has shape ", v[i].shape(), " but its parameter has shape ", params_[i].shape());
    Tensor term = sum(jacobian_t_dummy_[i] * v[i]);
    directional = directional.defined() ? directional + term : term;
  }
  // Outputs that do not depend on the parameters, or only linearly through parameters the
  // backward pass records as constants, do not move.
  if (!directional.defined() || !directional.requires_grad()) return zeros_like(outputs_);
  Tensor jv =
      autograd::grad({directional}, {dummy_}, {}, {.retain_graph = true, .allow_unused = true})[0];
  return jv.defined() ? detach(jv) : zeros_like(outputs_);
}

std::vector<Tensor> GaussNewtonProduct::operator()(const std::vector<Tensor>& v) const {
  Tensor jv = jacobian_vector(v);
  GradModeGuard recording(true);
  Tensor h_jv = zeros_like(outputs_);  // H_L J v; zero for a loss linear in the outputs
  if (loss_gradient_.requires_grad()) {
    Tensor along = sum(loss_gradient_ * jv);
    Tensor h =
        autograd::grad({along}, {outputs_}, {}, {.retain_graph = true, .allow_unused = true})[0];
    if (h.defined()) h_jv = detach(h);
  }
  std::vector<Tensor> result =
      autograd::grad({outputs_}, params_, {h_jv}, {.retain_graph = true, .allow_unused = true});
  for (size_t i = 0; i < result.size(); ++i)
    result[i] = result[i].defined() ? detach(result[i]) : zeros_like(params_[i]);
  return result;
}

}  // namespace nabla::optim
