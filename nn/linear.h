// Linear (y = x W^T + b), Identity and Flatten.
#pragma once

#include "nn/weighted_layer.h"

namespace nabla::nn {

class Linear : public WeightedLayer {
 public:
  // weight [out, in] and bias [out] drawn as PyTorch does: U(-1/sqrt(in), 1/sqrt(in)).
  Linear(int64_t in_features, int64_t out_features, bool bias = true);

  // x [*, in] -> [*, out]
  Tensor forward_with_weight(const Tensor& x, const Tensor& weight) override;
  const Tensor& weight() const override { return weight_; }
  const Tensor& bias() const { return bias_; }
  void reset_parameters();

 protected:
  std::string extra_repr() const override;

 private:
  int64_t in_features_, out_features_;
  Tensor weight_, bias_;
};

class Identity : public Module {
 public:
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor& x) override { return x; }
};

// Merges dims start..end (inclusive); by default everything but the batch dim.
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : Module("Flatten"), start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor forward(const Tensor& x) override;

 protected:
  std::string extra_repr() const override;

 private:
  int64_t start_dim_, end_dim_;
};

}  // namespace nabla::nn
