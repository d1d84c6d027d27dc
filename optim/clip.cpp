// Gradient clipping by global norm and by value.
#include "optim/clip.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/inplace.h"
#include "autograd/ops/reduce.h"

namespace nabla::optim {

namespace {

std::vector<Tensor> gradients(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (const Tensor& p : params)
    if (p.defined() && p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

std::vector<Tensor> tensors(const NamedTensors& params) {
  std::vector<Tensor> all;
  for (const auto& [name, p] : params) all.push_back(p);
  return all;
}

// The p-norm of all gradients as one vector: (sum_i |g_i|_p^p)^(1/p), or the largest |g|.
double global_norm(const std::vector<Tensor>& grads, double p) {
  double total = 0;
  for (const Tensor& g : grads) {
    double n = norm(g, p).item();
    total = std::isinf(p) ? std::max(total, n) : total + std::pow(n, p);
  }
  return std::isinf(p) ? total : std::pow(total, 1 / p);
}

}  // namespace

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type,
                      bool error_if_nonfinite) {
  NABLA_CHECK(max_norm >= 0, ValueError, "clip_grad_norm: max_norm must be >= 0, got ", max_norm);
  NABLA_CHECK(norm_type > 0, ValueError, "clip_grad_norm: norm_type must be > 0, got ", norm_type);
  NoGradGuard no_grad;
  std::vector<Tensor> grads = gradients(params);
  double total = global_norm(grads, norm_type);
  NABLA_CHECK(std::isfinite(total) || !error_if_nonfinite, ValueError,
              "clip_grad_norm: the gradients' norm is ", total,
              "; pass error_if_nonfinite = false to clip anyway");
  double coefficient = max_norm / (total + 1e-6);
  if (coefficient < 1)
    for (const Tensor& g : grads) mul_(g, coefficient);
  return total;
}

double clip_grad_norm(const NamedTensors& params, double max_norm, double norm_type,
                      bool error_if_nonfinite) {
  return clip_grad_norm(tensors(params), max_norm, norm_type, error_if_nonfinite);
}

double clip_grad_value(const std::vector<Tensor>& params, double clip_value) {
  NABLA_CHECK(clip_value >= 0, ValueError, "clip_grad_value: clip_value must be >= 0, got ",
              clip_value);
  NoGradGuard no_grad;
  std::vector<Tensor> grads = gradients(params);
  double total = global_norm(grads, 2.0);
  for (const Tensor& g : grads) clamp_(g, -clip_value, clip_value);
  return total;
}

double clip_grad_value(const NamedTensors& params, double clip_value) {
  return clip_grad_value(tensors(params), clip_value);
}

}  // namespace nabla::optim
