// FastNet.
#include "nn/models/fastnet.h"

#include "autograd/ops/reduce.h"
#include "nn/activation.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/normalization.h"
#include "nn/pooling.h"

namespace nabla::nn::models {
namespace {

std::shared_ptr<Conv2d> conv3x3(int64_t in, int64_t out) {
  return std::make_shared<Conv2d>(in, out, 3, Conv2dOptions{.padding = 1, .bias = false});
}

// conv -> maxpool 2 -> BN -> act -> conv -> BN -> act: halves the resolution. Pooling before
// normalizing makes the first BN and activation run on a quarter of the pixels.
std::shared_ptr<Sequential> block(int64_t in, int64_t out, const std::string& activation) {
  return sequential({conv3x3(in, out), std::make_shared<MaxPool2d>(2),
                     std::make_shared<BatchNorm2d>(out), make_activation(activation),
                     conv3x3(out, out), std::make_shared<BatchNorm2d>(out),
                     make_activation(activation)});
}

}  // namespace

FastNet::FastNet(const ModelOptions& options) : Module("FastNet") {
  const int64_t w0 = scaled_width(32, options.width), w1 = scaled_width(64, options.width);
  const int64_t w2 = scaled_width(256, options.width), w3 = scaled_width(256, options.width);
  const std::string act = options.activation == "relu" ? "gelu" : options.activation;
  stem_ = register_module(
      "stem", sequential({conv3x3(options.in_channels, w0), std::make_shared<BatchNorm2d>(w0),
                          make_activation(act)}));
  block1_ = register_module("block1", block(w0, w1, act));
  block2_ = register_module("block2", block(w1, w2, act));
  block3_ = register_module("block3", block(w2, w3, act));
  fc_ = register_module("fc", std::make_shared<Linear>(w3, options.num_classes, /*bias=*/false));
}

Tensor FastNet::forward(const Tensor& x) {
  // x: [N, C, 32, 32] -> [N, w0, 32, 32] -> [N, w1, 16, 16] -> [N, w2, 8, 8] -> [N, w3, 4, 4]
  Tensor y = (*block3_)((*block2_)((*block1_)((*stem_)(x))));
  // -> [N, w3] (global max pool) -> [N, classes]
  return (*fc_)(amax(y, {2, 3}));
}

}  // namespace nabla::nn::models
