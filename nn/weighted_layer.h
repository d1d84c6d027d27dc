// A layer whose forward is a function of its input and one weight tensor (Linear, Conv2d), so
// that a wrapper can run it with a modified weight (DropConnect) and a weight transform can
// reparametrize it (quantization-aware training's fake-quantized weights).
#pragma once

#include <functional>
#include <utility>

#include "nn/module.h"

namespace nabla::nn {

class WeightedLayer : public Module {
 public:
  // Maps the stored weight to the one forward uses; differentiable, so that gradients reach the
  // stored weight through it (a straight-through estimator, for fake quantization).
  using WeightTransform = std::function<Tensor(const Tensor& weight)>;

  using Module::Module;
  Tensor forward(const Tensor& x) override { return forward_with_weight(x, effective_weight()); }
  virtual Tensor forward_with_weight(const Tensor& x, const Tensor& weight) = 0;
  // The stored (trained, saved) weight, never transformed.
  virtual const Tensor& weight() const = 0;

  // transform(weight()) when a transform is set, else weight(): what forward computes with.
  Tensor effective_weight() const {
    return weight_transform_ ? weight_transform_(weight()) : weight();
  }
  void set_weight_transform(WeightTransform transform) { weight_transform_ = std::move(transform); }
  void clear_weight_transform() { weight_transform_ = nullptr; }
  bool has_weight_transform() const { return static_cast<bool>(weight_transform_); }

 private:
  WeightTransform weight_transform_;
};

}  // namespace nabla::nn
