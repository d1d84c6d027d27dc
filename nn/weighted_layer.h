// A layer whose forward is a function of its input and one weight tensor (Linear, Conv2d), so
// that a wrapper can run it with a modified weight: DropConnect, and later weight quantization.
#pragma once

#include "nn/module.h"

namespace nabla::nn {

class WeightedLayer : public Module {
 public:
  using Module::Module;
  Tensor forward(const Tensor& x) override { return forward_with_weight(x, weight()); }
  virtual Tensor forward_with_weight(const Tensor& x, const Tensor& weight) = 0;
  virtual const Tensor& weight() const = 0;
};

}  // namespace nabla::nn
