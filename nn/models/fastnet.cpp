// FastNet.
#include "nn/models/fastnet.h"

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/linalg.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"
#include "core/error.h"
#include "core/ops.h"
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
  NABLA_CHECK(options.depth == 0, ValueError, "FastNet: its depth is fixed; got depth ",
              options.depth);
  const int64_t w0 = scaled_width(32, options.width), w1 = scaled_width(64, options.width);
  const int64_t w2 = scaled_width(256, options.width), w3 = scaled_width(256, options.width);
  const std::string act = options.activation == "relu" ? "gelu" : options.activation;
  stem_conv_ = conv3x3(options.in_channels, w0);
  stem_ = register_module(
      "stem", sequential({stem_conv_, std::make_shared<BatchNorm2d>(w0), make_activation(act)}));
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

void FastNet::whiten_stem(const Tensor& images, double eps) {
  NoGradGuard no_grad;
  Tensor weight = stem_conv_->weight();  // a handle: changes reach the parameter
  const int64_t filters = weight.size(0), channels = weight.size(1);
  const int64_t dims = channels * 9;  // a 3x3 patch of every channel
  NABLA_CHECK(images.dim() == 4 && images.size(1) == channels, ShapeError,
              "FastNet::whiten_stem: expected images [N, ", channels, ", H, W], got shape ",
              images.shape());
  // Every 3x3 patch as a row: a convolution with the identity basis [dims, C, 3, 3].
  Tensor basis = core::view(eye(dims, {.dtype = kFloat64}), {dims, channels, 3, 3});
  Tensor patches = core::conv2d(core::to(images, kFloat64), basis, {});
  Tensor rows = core::reshape(core::permute(patches, {0, 2, 3, 1}), {-1, dims});
  NABLA_CHECK(rows.size(0) > dims, ValueError, "FastNet::whiten_stem: ", rows.size(0),
              " patches cannot estimate a ", dims, "x", dims, " covariance");
  Tensor centered = rows - mean(rows, {0}, /*keepdim=*/true);
  Tensor covariance = matmul(transpose(centered, 0, 1), centered) / double(rows.size(0) - 1);
  auto [eigenvalues, eigenvectors] = core::eigh(covariance);
  // The leading directions first, each as a filter scaled to unit variance on these images.
  const int64_t kept = std::min(filters / 2, dims);
  Tensor leading = core::slice(eigenvectors, 1, dims - kept, dims);
  Tensor scale = rsqrt(core::slice(eigenvalues, 0, dims - kept, dims) + eps);
  Tensor whitening = transpose(leading * unsqueeze(scale, 0), 0, 1);  // [kept, dims]
  Tensor weights = zeros({filters, dims}, {.dtype = kFloat64});
  core::copy_(core::slice(weights, 0, 0, kept), whitening);
  core::copy_(core::slice(weights, 0, kept, 2 * kept), -whitening);
  core::copy_(weight, core::to(core::view(weights, weight.shape()), weight.dtype()));
  weight.requires_grad_(false);
}

}  // namespace nabla::nn::models
