// Functional transforms built on autograd::grad: Hessian-vector products.
#pragma once

#include <functional>
#include <vector>

#include "core/tensor.h"

namespace nabla::autograd {

using Function = std::function<Tensor(const std::vector<Tensor>&)>;

struct HvpResult {
  Tensor value;             // f(params)
  std::vector<Tensor> hvp;  // H v, one tensor per parameter
};

// The Hessian of the scalar f at `params` times `v`, by double backward: H v = d/dp (df/dp · v).
// f must compute from its arguments (it receives copies of params that require grad).
HvpResult hvp(const Function& f, const std::vector<Tensor>& params, const std::vector<Tensor>& v);

}  // namespace nabla::autograd
