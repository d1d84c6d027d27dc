// Linear, Identity and Flatten.
#include "nn/linear.h"

#include <cmath>
#include <sstream>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/linalg.h"
#include "autograd/ops/views.h"
#include "core/creation.h"
#include "core/error.h"
#include "nn/init.h"

namespace nabla::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias)
    : WeightedLayer("Linear"), in_features_(in_features), out_features_(out_features) {
  NABLA_CHECK(in_features > 0 && out_features > 0, ValueError,
              "Linear: feature counts must be positive, got in ", in_features, ", out ",
              out_features);
  weight_ = register_parameter("weight", empty({out_features, in_features}));
  if (bias) bias_ = register_parameter("bias", empty({out_features}));
  reset_parameters();
}

void Linear::reset_parameters() {
  // PyTorch's default: kaiming_uniform_ with a = sqrt(5) gives U(-1/sqrt(in), 1/sqrt(in)).
  init::kaiming_uniform_(weight_, std::sqrt(5.0));
  if (bias_.defined()) {
    double bound = 1 / std::sqrt(double(in_features_));
    init::uniform_(bias_, -bound, bound);
  }
}

Tensor Linear::forward_with_weight(const Tensor& x, const Tensor& weight) {
  NABLA_CHECK(x.dim() >= 1 && x.size(-1) == in_features_, ShapeError, "Linear: input ", x.shape(),
              " must end in ", in_features_, " features (weight ", weight.shape(), ")");
  // x: [*, in]; the batch dims are merged so that one GEMM does the work.
  Tensor rows = x.dim() == 2 ? x : reshape(x, {-1, in_features_});
  Tensor y = matmul(rows, transpose(weight, 0, 1));  // [rows, out]
  if (bias_.defined()) y = add(y, bias_);
  if (x.dim() == 2) return y;
  Shape shape = x.shape();
  shape.back() = out_features_;
  return reshape(y, shape);
}

std::string Linear::extra_repr() const {
  std::ostringstream os;
  os << "in_features=" << in_features_ << ", out_features=" << out_features_
     << ", bias=" << (bias_.defined() ? "true" : "false");
  return os.str();
}

Tensor Flatten::forward(const Tensor& x) { return flatten(x, start_dim_, end_dim_); }

std::string Flatten::extra_repr() const {
  std::ostringstream os;
  os << "start_dim=" << start_dim_ << ", end_dim=" << end_dim_;
  return os.str();
}

}  // namespace nabla::nn
