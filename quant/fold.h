// Batch-norm folding: a convolution (or Linear) followed by batch norm in eval mode is one
// convolution with a rescaled weight and a new bias. Int8 inference needs the folded weight,
// whose per-channel ranges are the ones to quantize.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "nn/conv.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "nn/normalization.h"
#include "quant/module_graph.h"

namespace nabla::quant {

// With s = gamma / sqrt(running_var + eps) per output channel (gamma 1 and beta 0 without the
// affine part):
//   W' = W * s (along the weight's dim 0, the output channels)
//   b' = beta + (b - running_mean) * s   (b = 0 when the layer has no bias)
// so that layer'(x) = bn(layer(x)) in eval mode. The results are new tensors in the weight's
// dtype, without gradient history; the modules are untouched.
struct FoldedConv {
  Tensor weight, bias;
};
FoldedConv fold_conv_bn(const nn::Conv2d& conv, const nn::BatchNorm& bn);
// Linear + BatchNorm1d over [N, features].
FoldedConv fold_linear_bn(const nn::Linear& linear, const nn::BatchNorm& bn);

// Folds in place, keeping the model's structure (a ResNet's forward still calls bn): the layer
// takes W' (and a zero bias, if it has one), and bn becomes the per-channel bias b': weight 1
// (no longer trained), bias b', running_mean 0 and running_var r with r + eps = 1 exactly in
// float (so bn is x + b'), statistics frozen. Both keep their tensors, so optimizers and hooks
// holding them stay valid. bn must have affine parameters and running statistics.
void fold_batch_norm_in_place(nn::Conv2d& conv, nn::BatchNorm& bn);
void fold_batch_norm_in_place(nn::Linear& linear, nn::BatchNorm& bn);

// Traces model(example_input) (see trace) and folds every conv/linear -> batch norm pair of
// its fusion chains in place, except pairs folded before. Returns the graph traced before
// folding and the chains it folded.
struct FoldResult {
  ModuleGraph graph;
  std::vector<FusionChain> folded;
};
FoldResult fuse_conv_bn(nn::Module& model, const Tensor& example_input);

}  // namespace nabla::quant
