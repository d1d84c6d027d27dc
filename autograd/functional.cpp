// Hessian-vector products.
#include "autograd/functional.h"

#include "autograd/engine.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"
#include "core/creation.h"

namespace nabla::autograd {

HvpResult hvp(const Function& f, const std::vector<Tensor>& params, const std::vector<Tensor>& v) {
  NABLA_CHECK(params.size() == v.size(), ValueError, "hvp: ", params.size(), " parameters but ",
              v.size(), " vectors");
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < params.size(); ++i) {
    NABLA_CHECK(params[i].shape() == v[i].shape(), ShapeError, "hvp: parameter ", i, " has shape ",
                params[i].shape(), " but its vector has shape ", v[i].shape());
    inputs.push_back(detach(params[i]).requires_grad_());
  }
  Tensor value = f(inputs);
  NABLA_CHECK(value.numel() == 1, ShapeError, "hvp: f must return one value, got shape ",
              value.shape());
  std::vector<Tensor> first =
      grad({value}, inputs, {}, {.create_graph = true, .allow_unused = true});
  Tensor directional;
  for (size_t i = 0; i < first.size(); ++i) {
    if (!first[i].defined()) continue;
    Tensor term = sum(mul(first[i], v[i]));
    directional = directional.defined() ? add(directional, term) : term;
  }
  std::vector<Tensor> result(inputs.size());
  if (directional.defined() && directional.requires_grad())
    result = grad({directional}, inputs, {}, {.allow_unused = true});
  for (size_t i = 0; i < result.size(); ++i)
    if (!result[i].defined()) result[i] = zeros_like(params[i]);
  return {detach(value), result};
}

}  // namespace nabla::autograd
