// Curvature through an ordinary closure: run it so that its gradients can be differentiated
// again, then take Hessian-vector products of the loss over the parameters.
#pragma once

#include <vector>

#include "optim/optimizer.h"
#include "optim/param_vector.h"

namespace nabla::optim {

// The loss and gradients of one closure call, with the graph that computed the gradients.
struct DifferentiableGradients {
  Tensor loss;
  NamedTensors params;  // those the closure gave a gradient, in the order they were given
  ParamVector grads;    // d loss / d params[i], recording their graph back to the parameters
};

// Runs `closure` (which calls backward(loss) and returns loss) under CreateGraphGuard. The graph
// is kept in the result, and each parameter's grad() is left holding a detached alias of its
// gradient: this breaks the grad() -> graph -> parameter cycle (autograd/engine.h), so the graph
// is freed with the result, and grad() reads as after an ordinary backward.
DifferentiableGradients differentiable_gradients(const NamedTensors& params,
                                                 const Closure& closure);

// H v, with H the Hessian of the loss over g.params and v one tensor per parameter: the gradient
// of sum_i grads[i] . v[i]. The graph is kept, so it may be called any number of times. A
// parameter the gradients do not depend on gets zeros.
ParamVector hessian_vector_product(const DifferentiableGradients& g, const ParamVector& v);

}  // namespace nabla::optim
