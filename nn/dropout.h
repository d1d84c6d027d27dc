// Dropout layers. In training each zeroes what it drops and scales the rest by 1 / (1 - p), so
// that eval (the identity) needs no rescaling.
#pragma once

#include <memory>

#include "nn/weighted_layer.h"

namespace nabla::nn {

// Zeroes each element with probability p.
Tensor dropout(const Tensor& x, double p, bool training = true);
// Zeroes whole channels of x [N, C, ...] with probability p.
Tensor dropout2d(const Tensor& x, double p, bool training = true);

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override { return dropout(x, p_, is_training()); }

 protected:
  std::string extra_repr() const override;

 private:
  double p_;
};

class Dropout2d : public Module {
 public:
  explicit Dropout2d(double p = 0.5);
  Tensor forward(const Tensor& x) override { return dropout2d(x, p_, is_training()); }

 protected:
  std::string extra_repr() const override;

 private:
  double p_;
};

// DropConnect (Wan et al., 2013): in training, runs the wrapped layer with each weight element
// zeroed with probability p (the rest scaled by 1 / (1 - p)), a new mask per forward pass.
// The wrapped layer is the child "layer", so its parameters are named "layer.weight", ...
class DropConnect : public Module {
 public:
  DropConnect(std::shared_ptr<WeightedLayer> layer, double p = 0.5);
  Tensor forward(const Tensor& x) override;
  const std::shared_ptr<WeightedLayer>& layer() const { return layer_; }

 protected:
  std::string extra_repr() const override;

 private:
  std::shared_ptr<WeightedLayer> layer_;
  double p_;
};

}  // namespace nabla::nn
