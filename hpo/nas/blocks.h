// The building blocks of the macro search space (macro_space.h): each maps [N, in, H, W] to
// [N, out, H / stride, W / stride] with a square kernel of any odd size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/containers.h"
#include "nn/conv.h"
#include "nn/module.h"
#include "nn/normalization.h"

namespace nabla::hpo::nas {

enum class BlockType { plain, residual, depthwise_separable, dilated, inverted_bottleneck };

const char* name(BlockType type);
// A ValueError naming the known types for any other name.
BlockType block_type_from_name(const std::string& name);
std::vector<BlockType> all_block_types();

struct BlockSpec {
  BlockType type = BlockType::plain;
  int64_t in_channels = 16, out_channels = 16;
  int64_t kernel = 3;     // odd: padding keeps the size, stride aside
  int64_t stride = 1;     // 1 or 2
  int64_t expansion = 1;  // inverted_bottleneck's hidden width is in_channels * expansion
};

// conv-BN-ReLU, one unit of every block below.
class ConvBnRelu : public nn::Module {
 public:
  ConvBnRelu(int64_t in, int64_t out, int64_t kernel, nn::Conv2dOptions options, bool relu = true);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<nn::Conv2d> conv_;
  std::shared_ptr<nn::BatchNorm2d> bn_;
  std::shared_ptr<nn::Module> act_;  // null without ReLU
};

// plain: one conv k x k. dilated: one conv k x k with dilation 2, which sees 2k - 1 pixels.
// residual: two convs and a shortcut (1x1 projection when the shape changes), ReLU after the sum.
// depthwise_separable: a depthwise k x k conv, then a pointwise 1x1 one (MobileNet).
// inverted_bottleneck: 1x1 expansion, depthwise k x k, linear 1x1 projection, and the identity
// added when the shape stays (MobileNetV2).
class Block : public nn::Module {
 public:
  // A ValueError for an even kernel, a stride other than 1 or 2, or an expansion below 1.
  explicit Block(const BlockSpec& spec);
  Tensor forward(const Tensor& x) override;

  const BlockSpec& spec() const { return spec_; }

 private:
  BlockSpec spec_;
  std::shared_ptr<nn::Sequential> body_;
  std::shared_ptr<ConvBnRelu> projection_;  // residual with a change of shape
  // The input, or its projection, added to the body's output.
  bool adds_shortcut_ = false;
};

}  // namespace nabla::hpo::nas
