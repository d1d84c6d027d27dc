// Batch-norm folding: the folded weight and bias, written in place or returned, and folding every
// pair a trace finds.
#include "quant/fold.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/creation.h"
#include "core/error.h"
#include "core/ops.h"

namespace nabla::quant {
namespace {

// fold.h's W' and b', computed in float64 and returned in the weight's dtype.
FoldedConv fold(const char* op, const Tensor& weight, const Tensor& bias, const nn::BatchNorm& bn) {
  NABLA_CHECK(bn.running_mean().defined(), ValueError, op, ": ", bn.type_name(),
              " has no running statistics (track_running_stats false) to fold");
  NABLA_CHECK(bn.num_features() == weight.size(0), ShapeError, op, ": ", bn.type_name(), " has ",
              bn.num_features(), " channels but the weight ", weight.shape(), " has ",
              weight.size(0), " output channels");
  NoGradGuard no_grad;
  auto f64 = [](const Tensor& t) { return core::to(detach(t), kFloat64); };
  Tensor scale = rsqrt(add(f64(bn.running_var()), bn.eps()));  // [C]
  if (bn.weight().defined()) scale = mul(scale, f64(bn.weight()));
  Shape per_row(static_cast<size_t>(weight.dim()), 1);
  per_row[0] = weight.size(0);
  Tensor w = mul(f64(weight), reshape(scale, per_row));
  Tensor b = bias.defined() ? f64(bias) : zeros({weight.size(0)}, {.dtype = kFloat64});
  b = mul(sub(b, f64(bn.running_mean())), scale);
  if (bn.bias().defined()) b = add(b, f64(bn.bias()));
  return {core::to(w, weight.dtype()), core::to(b, weight.dtype())};
}

// The running variance r with r + eps == 1 in the buffer's own arithmetic, so that the eval
// path's rsqrt(r + eps) is exactly 1: 1 - eps, nudged by an ulp while the sum rounds away.
double unit_variance(const Tensor& like, double eps) {
  const bool single = like.dtype() == kFloat32;
  double r = single ? double(float(1 - eps)) : 1 - eps;
  for (int step = 0; step < 8; ++step) {
    Tensor t = full({1}, r, {.dtype = like.dtype()});
    double sum = add(t, eps).item<double>();
    if (sum == 1) break;
    double toward = sum > 1 ? 0.0 : 2.0;
    r = single ? double(std::nextafter(float(r), float(toward))) : std::nextafter(r, toward);
  }
  return r;
}

void write_in_place(const char* op, const Tensor& weight, const Tensor& bias, nn::BatchNorm& bn) {
  NABLA_CHECK(bn.weight().defined(), ValueError, op, ": ", bn.type_name(),
              " has no affine parameters (affine false) to hold the folded bias");
  FoldedConv folded = fold(op, weight, bias, bn);
  NoGradGuard no_grad;
  core::copy_(weight, folded.weight);
  if (bias.defined()) core::fill_(bias, 0);
  core::copy_(bn.bias(), folded.bias);
  Tensor gamma = bn.weight();
  core::fill_(gamma, 1);
  // A trained gamma would scale the folded layer again; it stays 1.
  gamma.requires_grad_(false);
  gamma.set_grad(Tensor());
  core::fill_(bn.running_mean(), 0);
  core::fill_(bn.running_var(), unit_variance(bn.running_var(), bn.eps()));
  bn.freeze_statistics();
}

}  // namespace

FoldedConv fold_conv_bn(const nn::Conv2d& conv, const nn::BatchNorm& bn) {
  return fold("fold_conv_bn", conv.weight(), conv.bias(), bn);
}

FoldedConv fold_linear_bn(const nn::Linear& linear, const nn::BatchNorm& bn) {
  return fold("fold_linear_bn", linear.weight(), linear.bias(), bn);
}

void fold_batch_norm_in_place(nn::Conv2d& conv, nn::BatchNorm& bn) {
  write_in_place("fold_batch_norm_in_place", conv.weight(), conv.bias(), bn);
}

void fold_batch_norm_in_place(nn::Linear& linear, nn::BatchNorm& bn) {
  write_in_place("fold_batch_norm_in_place", linear.weight(), linear.bias(), bn);
}

FoldResult fuse_conv_bn(nn::Module& model, const Tensor& example_input) {
  FoldResult result{.graph = trace(model, example_input), .folded = {}};
  const ModuleGraph& graph = result.graph;
  for (const FusionChain& chain : fusion_chains(graph)) {
    if (chain.bn < 0) continue;
    nn::Module* layer = graph.nodes[static_cast<size_t>(chain.layer)].module;
    auto& bn = dynamic_cast<nn::BatchNorm&>(*graph.nodes[static_cast<size_t>(chain.bn)].module);
    // Already folded (frozen, gamma no longer trained): folding again would only compound
    // roundings, since r + eps is 1 in float32 but not in the float64 of fold().
    if (bn.statistics_frozen() && !bn.weight().requires_grad()) continue;
    if (auto* conv = dynamic_cast<nn::Conv2d*>(layer)) {
      fold_batch_norm_in_place(*conv, bn);
    } else if (auto* linear = dynamic_cast<nn::Linear*>(layer)) {
      fold_batch_norm_in_place(*linear, bn);
    }
    result.folded.push_back(chain);
  }
  return result;
}

}  // namespace nabla::quant
