// FastNet: a fast CIFAR-10 network in the style of the fast-training records (Page's DAWNBench
// ResNet, airbench): conv-BN-activation blocks that pool early, wide late stages, global max
// pooling and a bias-free Linear head. About 1.98 M parameters at width 1.
#pragma once

#include "nn/containers.h"
#include "nn/models/options.h"

namespace nabla::nn::models {

class FastNet : public Module {
 public:
  explicit FastNet(const ModelOptions& options = {});
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Sequential> stem_, block1_, block2_, block3_;
  std::shared_ptr<Module> fc_;
};

}  // namespace nabla::nn::models
