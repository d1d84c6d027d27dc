// ResNet-20 and ResNet-18 for CIFAR.
#include "nn/models/resnet.h"

#include "autograd/ops/elementwise.h"
#include "autograd/ops/views.h"
#include "core/creation.h"
#include "core/error.h"
#include "nn/activation.h"
#include "nn/linear.h"
#include "nn/pooling.h"

namespace nabla::nn::models {
namespace {

std::shared_ptr<Conv2d> conv3x3(int64_t in, int64_t out, int64_t stride) {
  return std::make_shared<Conv2d>(in, out, 3,
                                  Conv2dOptions{.stride = stride, .padding = 1, .bias = false});
}

}  // namespace

BasicBlock::BasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride, Shortcut shortcut,
                       const std::string& activation)
    : Module("BasicBlock"), stride_(stride) {
  conv1_ = register_module("conv1", conv3x3(in_channels, out_channels, stride));
  bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(out_channels));
  act1_ = register_module("act1", make_activation(activation));
  conv2_ = register_module("conv2", conv3x3(out_channels, out_channels, 1));
  bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(out_channels));
  if (stride == 1 && in_channels == out_channels) {
    // identity shortcut
  } else if (shortcut == Shortcut::projection) {
    projection_ = register_module(
        "shortcut",
        sequential({std::make_shared<Conv2d>(in_channels, out_channels, 1,
                                             Conv2dOptions{.stride = stride, .bias = false}),
                    std::make_shared<BatchNorm2d>(out_channels)}));
  } else {
    NABLA_CHECK(out_channels >= in_channels, ValueError,
                "BasicBlock: a zero-pad shortcut cannot reduce channels (", in_channels, " -> ",
                out_channels, ")");
    pad_channels_ = out_channels - in_channels;
  }
  act2_ = register_module("act2", make_activation(activation));
}

Tensor BasicBlock::forward(const Tensor& x) {
  // x: [N, in, H, W] -> [N, out, H / stride, W / stride]
  Tensor y = batch_norm_activation(*bn1_, *act1_, (*conv1_)(x));
  y = (*conv2_)(y);
  Tensor identity = x;
  if (projection_) {
    identity = (*projection_)(x);
  } else if (stride_ != 1 || pad_channels_ > 0) {
    // Option A: every stride-th pixel, then zero channels up to the new width.
    identity = slice(slice(x, 2, 0, x.size(2), stride_), 3, 0, x.size(3), stride_);
    if (pad_channels_ > 0) {
      Shape pad_shape = identity.shape();
      pad_shape[1] = pad_channels_;
      Tensor zero = zeros(pad_shape, {.dtype = x.dtype(), .device = x.device()});
      identity = cat({identity, zero}, 1);
    }
  }
  return batch_norm_activation(*bn2_, *act2_, y, identity);
}

ResNet::ResNet(const ResNetConfig& config, const ModelOptions& options) : Module("ResNet") {
  NABLA_CHECK(!config.blocks.empty() && config.blocks.size() == config.widths.size(), ValueError,
              "ResNet: need one width per stage, got ", config.blocks.size(), " stages and ",
              config.widths.size(), " widths");
  std::vector<int64_t> widths;
  for (int64_t w : config.widths) widths.push_back(scaled_width(w, options.width));

  conv1_ = register_module("conv1", conv3x3(options.in_channels, widths[0], 1));
  bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(widths[0]));
  act_ = register_module("act", make_activation(options.activation));
  // Stage i halves the resolution (except the first) and sets the width to widths[i].
  int64_t channels = widths[0];
  for (size_t stage = 0; stage < config.blocks.size(); ++stage) {
    auto blocks = std::make_shared<Sequential>();
    for (int64_t b = 0; b < config.blocks[stage]; ++b) {
      int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      blocks->push_back(std::make_shared<BasicBlock>(channels, widths[stage], stride,
                                                     config.shortcut, options.activation));
      channels = widths[stage];
    }
    layers_.push_back(register_module("layer" + std::to_string(stage + 1), blocks));
  }
  fc_ = register_module("fc", std::make_shared<Linear>(channels, options.num_classes));
}

Tensor ResNet::forward(const Tensor& x) {
  // x: [N, C, S, S] -> [N, w0, S, S]
  Tensor y = batch_norm_activation(*bn1_, *act_, (*conv1_)(x));
  // -> [N, w_last, S / 2^(stages - 1), ...]
  for (const auto& layer : layers_) y = (*layer)(y);
  // -> [N, w_last] -> [N, classes]
  return (*fc_)(flatten(adaptive_avg_pool2d(y, 1, 1), 1));
}

namespace {

// `blocks` per stage, unless options.depth asks for another number.
std::vector<int64_t> blocks_per_stage(const ModelOptions& options, int64_t blocks, int64_t stages) {
  NABLA_CHECK(options.depth >= 0, ValueError, "ResNet: depth must be 0 or more, got ",
              options.depth);
  return std::vector<int64_t>(size_t(stages), options.depth > 0 ? options.depth : blocks);
}

}  // namespace

std::shared_ptr<ResNet> resnet20(const ModelOptions& options, Shortcut shortcut) {
  return std::make_shared<ResNet>(
      ResNetConfig{blocks_per_stage(options, 3, 3), {16, 32, 64}, shortcut}, options);
}

std::shared_ptr<ResNet> resnet18(const ModelOptions& options) {
  return std::make_shared<ResNet>(
      ResNetConfig{blocks_per_stage(options, 2, 4), {64, 128, 256, 512}}, options);
}

}  // namespace nabla::nn::models
