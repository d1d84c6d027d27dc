// FastNet: a fast CIFAR-10 network in the style of the fast-training records (Page's DAWNBench
// ResNet, airbench): conv-BN-activation blocks that pool early, wide late stages, global max
// pooling and a bias-free Linear head. About 1.98 M parameters at width 1.
#pragma once

#include "nn/containers.h"
#include "nn/conv.h"
#include "nn/models/options.h"

namespace nabla::nn::models {

class FastNet : public Module {
 public:
  explicit FastNet(const ModelOptions& options = {});
  Tensor forward(const Tensor& x) override;

  // Turns the stem's convolution into a fixed patch-whitening layer (airbench's first layer): its
  // filters become the leading eigenvectors of the covariance of the 3x3 patches of `images`
  // ([N, C, H, W], normalized as training will feed them), each scaled by 1 / sqrt(eigenvalue +
  // eps) and paired with its negative so that both signs pass the activation, and they stop
  // training. Decorrelated inputs let the first layers learn in fewer epochs.
  void whiten_stem(const Tensor& images, double eps = 5e-4);

 private:
  std::shared_ptr<Sequential> stem_, block1_, block2_, block3_;
  std::shared_ptr<Conv2d> stem_conv_;
  std::shared_ptr<Module> fc_;
};

}  // namespace nabla::nn::models
