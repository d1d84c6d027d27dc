// The macro space's blocks, each a short chain of conv-BN(-ReLU) units.
#include "hpo/nas/blocks.h"

#include "autograd/ops/elementwise.h"
#include "core/error.h"
#include "nn/activation.h"
#include "nn/containers.h"

namespace nabla::hpo::nas {

const char* name(BlockType type) {
  switch (type) {
    case BlockType::plain:
      return "plain";
    case BlockType::residual:
      return "residual";
    case BlockType::depthwise_separable:
      return "depthwise_separable";
    case BlockType::dilated:
      return "dilated";
    case BlockType::inverted_bottleneck:
      return "inverted_bottleneck";
  }
  return "?";
}

std::vector<BlockType> all_block_types() {
  return {BlockType::plain, BlockType::residual, BlockType::depthwise_separable, BlockType::dilated,
          BlockType::inverted_bottleneck};
}

BlockType block_type_from_name(const std::string& type_name) {
  std::string known;
  for (BlockType type : all_block_types()) {
    if (type_name == name(type)) return type;
    known += (known.empty() ? "" : ", ") + std::string(name(type));
  }
  throw ValueError(
      detail::concat("nas: unknown block type '", type_name, "' (known: ", known, ")"));
}

ConvBnRelu::ConvBnRelu(int64_t in, int64_t out, int64_t kernel, nn::Conv2dOptions options,
                       bool relu)
    : Module("ConvBnRelu") {
  options.bias = false;
  conv_ = register_module("conv", std::make_shared<nn::Conv2d>(in, out, kernel, options));
  bn_ = register_module("bn", std::make_shared<nn::BatchNorm2d>(out));
  if (relu) act_ = register_module("act", std::make_shared<nn::ReLU>());
}

Tensor ConvBnRelu::forward(const Tensor& x) {
  Tensor y = (*conv_)(x);
  return act_ ? nn::batch_norm_activation(*bn_, *act_, y) : (*bn_)(y);
}

namespace {

std::shared_ptr<ConvBnRelu> unit(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                                 int64_t dilation = 1, int64_t groups = 1, bool relu = true) {
  return std::make_shared<ConvBnRelu>(in, out, kernel,
                                      nn::Conv2dOptions{.stride = stride,
                                                        .padding = dilation * (kernel - 1) / 2,
                                                        .dilation = dilation,
                                                        .groups = groups},
                                      relu);
}

}  // namespace

Block::Block(const BlockSpec& spec) : Module("Block"), spec_(spec) {
  NABLA_CHECK(spec.kernel >= 1 && spec.kernel % 2 == 1, ValueError,
              "nas::Block: the kernel size must be odd, got ", spec.kernel);
  NABLA_CHECK(spec.stride == 1 || spec.stride == 2, ValueError,
              "nas::Block: the stride must be 1 or 2, got ", spec.stride);
  NABLA_CHECK(spec.expansion >= 1, ValueError, "nas::Block: the expansion must be 1 or more, got ",
              spec.expansion);
  NABLA_CHECK(spec.in_channels >= 1 && spec.out_channels >= 1, ValueError,
              "nas::Block: channels must be positive, got ", spec.in_channels, " -> ",
              spec.out_channels);
  const int64_t in = spec.in_channels, out = spec.out_channels, k = spec.kernel, s = spec.stride;
  const bool same_shape = s == 1 && in == out;
  std::vector<std::shared_ptr<nn::Module>> units;
  switch (spec.type) {
    case BlockType::plain:
      units = {unit(in, out, k, s)};
      break;
    case BlockType::dilated:
      units = {unit(in, out, k, s, 2)};
      break;
    case BlockType::residual:
      // The ReLU comes after the sum (forward).
      units = {unit(in, out, k, s), unit(out, out, k, 1, 1, 1, false)};
      if (!same_shape) projection_ = register_module("shortcut", unit(in, out, 1, s, 1, 1, false));
      adds_shortcut_ = true;
      break;
    case BlockType::depthwise_separable:
      units = {unit(in, in, k, s, 1, in), unit(in, out, 1, 1)};
      break;
    case BlockType::inverted_bottleneck: {
      const int64_t hidden = in * spec.expansion;
      if (spec.expansion > 1) units.push_back(unit(in, hidden, 1, 1));
      units.push_back(unit(hidden, hidden, k, s, 1, hidden));
      units.push_back(unit(hidden, out, 1, 1, 1, 1, false));
      adds_shortcut_ = same_shape;
      break;
    }
  }
  body_ = register_module("body", nn::sequential(units));
}

Tensor Block::forward(const Tensor& x) {
  Tensor y = (*body_)(x);
  if (!adds_shortcut_) return y;
  y = add(y, projection_ ? (*projection_)(x) : x);
  return spec_.type == BlockType::residual ? relu(y) : y;
}

}  // namespace nabla::hpo::nas
