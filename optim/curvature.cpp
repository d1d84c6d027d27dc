// Differentiable gradients from a closure, and Hessian-vector products over them.
#include "optim/curvature.h"

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "core/ops.h"

namespace nabla::optim {

DifferentiableGradients differentiable_gradients(const NamedTensors& params,
                                                 const Closure& closure) {
  DifferentiableGradients result;
  {
    CreateGraphGuard create_graph;
    result.loss = closure();
  }
  for (const auto& [name, p] : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    result.params.emplace_back(name, p);
    result.grads.push_back(g);
    p.set_grad(core::alias(g));
  }
  return result;
}

ParamVector hessian_vector_product(const DifferentiableGradients& g, const ParamVector& v) {
  NABLA_CHECK(v.size() == g.params.size(), ValueError, "hessian_vector_product: ", v.size(),
              " vectors for ", g.params.size(), " parameters");
  GradModeGuard grad_on(true);
  Tensor directional;
  for (size_t i = 0; i < v.size(); ++i) {
    NABLA_CHECK(v[i].shape() == g.params[i].second.shape(), ShapeError,
                "hessian_vector_product: parameter '", g.params[i].first, "' has shape ",
                g.params[i].second.shape(), " but its vector has shape ", v[i].shape());
    if (!g.grads[i].requires_grad()) continue;  // a gradient that is constant in the parameters
    Tensor term = sum(mul(g.grads[i], v[i]));
    directional = directional.defined() ? add(directional, term) : term;
  }
  ParamVector products(v.size());
  if (directional.defined()) {
    std::vector<Tensor> inputs;
    for (const auto& [name, p] : g.params) inputs.push_back(p);
    products =
        autograd::grad({directional}, inputs, {}, {.retain_graph = true, .allow_unused = true});
  }
  for (size_t i = 0; i < products.size(); ++i)
    if (!products[i].defined()) products[i] = zeros_like(g.params[i].second);
  return products;
}

}  // namespace nabla::optim
