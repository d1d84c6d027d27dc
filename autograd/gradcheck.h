// Gradient checking: analytical gradients (backward) against central differences, in float64.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace nabla::autograd {

struct GradcheckOptions {
  double eps = 1e-6;   // the finite-difference step
  double atol = 1e-5;  // |analytical - numerical| <= atol + rtol * |numerical|
  double rtol = 1e-3;
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // where and by how much the two Jacobians disagree
  explicit operator bool() const { return ok; }
};

// Compares the full Jacobian of f w.r.t. each input that requires grad (float64 inputs, f
// returning one tensor) with central differences. Other inputs are held constant.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, GradcheckOptions options = {});

// gradcheck of the gradient itself: the vector-Jacobian product of f with a random vector v,
// differentiated w.r.t. the inputs and v. Passes only if every rule f uses is differentiable.
GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                              const std::vector<Tensor>& inputs, GradcheckOptions options = {});

}  // namespace nabla::autograd
