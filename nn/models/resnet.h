// ResNets for 32x32 images (He et al., 2016): a conv3x3 stem without max-pooling, stages of
// BasicBlocks, global average pooling and one Linear layer. Parameter names follow the common
// PyTorch CIFAR ResNets: conv1, bn1, layer1.0.conv1.weight, ..., fc.weight.
//   resnet20: 3 stages x 3 blocks, 16/32/64 channels, 272,474 parameters on CIFAR-10
//   resnet18: 4 stages x 2 blocks, 64/128/256/512 channels, 11,173,962 parameters
#pragma once

#include <vector>

#include "nn/containers.h"
#include "nn/conv.h"
#include "nn/models/options.h"
#include "nn/normalization.h"

namespace nabla::nn::models {

// How a block's shortcut matches a change of shape: a strided 1x1 conv and BatchNorm, or (the
// CIFAR paper's option A) subsampling and zero channels, which adds no parameters.
enum class Shortcut { projection, zero_pad };

// conv3x3-BN-act-conv3x3-BN, plus the shortcut, then act.
class BasicBlock : public Module {
 public:
  BasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride, Shortcut shortcut,
             const std::string& activation);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<Module> act1_, act2_;
  std::shared_ptr<Sequential> projection_;  // null when the shortcut is not a projection
  int64_t stride_, pad_channels_ = 0;       // zero-pad shortcut: channels added
};

struct ResNetConfig {
  std::vector<int64_t> blocks;  // BasicBlocks per stage
  std::vector<int64_t> widths;  // channels per stage; the stem has widths[0]
  Shortcut shortcut = Shortcut::projection;
};

class ResNet : public Module {
 public:
  ResNet(const ResNetConfig& config, const ModelOptions& options);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Conv2d> conv1_;
  std::shared_ptr<BatchNorm2d> bn1_;
  std::shared_ptr<Module> act_;
  std::vector<std::shared_ptr<Sequential>> layers_;
  std::shared_ptr<Module> fc_;
};

std::shared_ptr<ResNet> resnet20(const ModelOptions& options = {},
                                 Shortcut shortcut = Shortcut::projection);
std::shared_ptr<ResNet> resnet18(const ModelOptions& options = {});

}  // namespace nabla::nn::models
