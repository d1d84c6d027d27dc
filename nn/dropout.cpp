// Dropout, Dropout2d and DropConnect: a Bernoulli keep-mask from the default generator,
// multiplied in with the 1 / (1 - p) scale.
#include "nn/dropout.h"

#include <sstream>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/inplace.h"
#include "core/creation.h"
#include "core/error.h"

namespace nabla::nn {
namespace {

void check_probability(const char* op, double p) {
  NABLA_CHECK(p >= 0 && p <= 1, ValueError, op, ": p must be in [0, 1], got ", p);
}

// x * mask / (1 - p), with the mask of `mask_shape` (broadcast to x) kept with probability 1 - p.
Tensor drop(const Tensor& x, double p, const Shape& mask_shape) {
  if (p == 1) return mul(x, 0.0);
  Tensor mask = empty(mask_shape, {.dtype = x.dtype(), .device = x.device()});
  bernoulli_(mask, 1 - p);
  return mul(x, mul(mask, 1 / (1 - p)));
}

std::string describe(double p) {
  std::ostringstream os;
  os << "p=" << p;
  return os.str();
}

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training) {
  check_probability("dropout", p);
  if (!training || p == 0) return x;
  return drop(x, p, x.shape());
}

Tensor dropout2d(const Tensor& x, double p, bool training) {
  check_probability("dropout2d", p);
  NABLA_CHECK(x.dim() >= 3, ShapeError, "dropout2d: input must be [N, C, H, W], got ", x.shape());
  if (!training || p == 0) return x;
  Shape mask_shape(x.dim(), 1);
  mask_shape[0] = x.size(0);
  mask_shape[1] = x.size(1);
  return drop(x, p, mask_shape);
}

Dropout::Dropout(double p) : Module("Dropout"), p_(p) { check_probability("Dropout", p); }
std::string Dropout::extra_repr() const { return describe(p_); }

Dropout2d::Dropout2d(double p) : Module("Dropout2d"), p_(p) { check_probability("Dropout2d", p); }
std::string Dropout2d::extra_repr() const { return describe(p_); }

DropConnect::DropConnect(std::shared_ptr<WeightedLayer> layer, double p)
    : Module("DropConnect"), layer_(register_module("layer", std::move(layer))), p_(p) {
  check_probability("DropConnect", p);
}

Tensor DropConnect::forward(const Tensor& x) {
  if (!is_training() || p_ == 0) return (*layer_)(x);
  // The mask drops entries of the weight the layer computes with (its weight transform applied).
  Tensor weight = layer_->effective_weight();
  return layer_->forward_with_weight(x, drop(weight, p_, weight.shape()));
}

std::string DropConnect::extra_repr() const { return describe(p_); }

}  // namespace nabla::nn
