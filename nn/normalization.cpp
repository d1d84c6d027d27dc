// Normalization layers. BatchNorm in training runs as one fused op (autograd/ops/batch_norm.h);
// with running statistics it folds them and its affine parameters into one per-channel scale and
// shift, so that the full-size tensor is touched by one multiply and one add. LayerNorm and
// GroupNorm are composed from differentiable reductions and elementwise ops.
#include "nn/normalization.h"

#include <algorithm>
#include <sstream>

#include "autograd/grad_mode.h"
#include "autograd/ops/batch_norm.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/inplace.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/views.h"
#include "core/creation.h"
#include "core/error.h"
#include "nn/activation.h"

namespace nabla::nn {
namespace {

// [C] -> [1, C, 1, ...] for an input of rank `rank`.
Tensor per_channel(const Tensor& v, int64_t rank) {
  Shape shape(rank, 1);
  shape[1] = v.size(0);
  return reshape(v, shape);
}

}  // namespace

BatchNorm::BatchNorm(std::string type_name, std::vector<int64_t> valid_ranks, int64_t num_features,
                     BatchNormOptions options)
    : Module(std::move(type_name)),
      valid_ranks_(std::move(valid_ranks)),
      num_features_(num_features),
      options_(options) {
  NABLA_CHECK(num_features > 0, ValueError, this->type_name(),
              ": num_features must be positive, got ", num_features);
  if (options.affine) {
    weight_ = register_parameter("weight", ones({num_features}));
    bias_ = register_parameter("bias", zeros({num_features}));
  }
  if (options.track_running_stats) {
    running_mean_ = register_buffer("running_mean", zeros({num_features}));
    running_var_ = register_buffer("running_var", ones({num_features}));
    num_batches_tracked_ = register_buffer("num_batches_tracked", zeros({}, {.dtype = kInt64}));
  }
}

void BatchNorm::reset_running_stats() {
  if (!options_.track_running_stats) return;
  NoGradGuard no_grad;
  zero_(running_mean_);
  fill_(running_var_, 1);
  zero_(num_batches_tracked_);
}

void BatchNorm::update_running_stats(const Tensor& mean, const Tensor& var, int64_t count) {
  NoGradGuard no_grad;
  add_(num_batches_tracked_, 1.0);
  double momentum =
      options_.momentum ? *options_.momentum : 1.0 / num_batches_tracked_.item<double>();
  // running = (1 - momentum) running + momentum batch; the variance is stored unbiased.
  Tensor unbiased = mul(var, double(count) / double(count - 1));
  mul_(running_mean_, 1 - momentum);
  add_(running_mean_, mean, momentum);
  mul_(running_var_, 1 - momentum);
  add_(running_var_, unbiased, momentum);
}

void BatchNorm::freeze_statistics(bool on) {
  NABLA_CHECK(!on || options_.track_running_stats, ValueError, type_name(),
              "::freeze_statistics: a layer without running statistics (track_running_stats "
              "false) has none to freeze");
  statistics_frozen_ = on;
}

Tensor BatchNorm::forward(const Tensor& x) { return forward(x, {}); }

Tensor BatchNorm::forward(const Tensor& x, const BatchNormEpilogue& epilogue) {
  NABLA_CHECK(std::find(valid_ranks_.begin(), valid_ranks_.end(), x.dim()) != valid_ranks_.end(),
              ShapeError, type_name(), ": input ", x.shape(), " has the wrong rank");
  NABLA_CHECK(x.size(1) == num_features_, ShapeError, type_name(), ": input ", x.shape(), " has ",
              x.size(1), " channels, expected ", num_features_);
  const int64_t count = x.numel() / num_features_;

  // Frozen statistics take the running-statistics path below in both modes, epilogue included.
  if ((is_training() || !options_.track_running_stats) && !statistics_frozen_) {
    NABLA_CHECK(count > 1, ValueError, type_name(),
                ": training needs more than one value per channel, got input ", x.shape());
    // The batch's statistics: one fused op (Note [fused batch norm]).
    BatchNormResult result = batch_norm_training(x, weight_, bias_, options_.eps, epilogue);
    if (is_training() && options_.track_running_stats) {
      update_running_stats(result.mean, result.var, count);
    }
    return result.output;
  }
  // y = (x - mean) / sqrt(var + eps) * weight + bias = x * scale + shift, with the running
  // statistics as constants.
  const Tensor& mean_c = running_mean_;
  const Tensor& var_c = running_var_;
  Tensor scale = rsqrt(add(var_c, options_.eps));
  if (weight_.defined()) scale = mul(scale, weight_);
  Tensor shift = neg(mul(mean_c, scale));
  if (bias_.defined()) shift = add(shift, bias_);
  Tensor y = add(mul(x, per_channel(scale, x.dim())), per_channel(shift, x.dim()));
  if (epilogue.residual.defined()) y = add(y, epilogue.residual);
  return epilogue.relu ? relu(y) : y;
}

Tensor batch_norm_activation(BatchNorm& bn, Module& act, const Tensor& x, const Tensor& residual) {
  if (dynamic_cast<const ReLU*>(&act) && !bn.has_forward_hooks() && !act.has_forward_hooks()) {
    return bn.forward(x, {.residual = residual, .relu = true});
  }
  Tensor y = bn(x);
  return act(residual.defined() ? add(y, residual) : y);
}

std::string BatchNorm::extra_repr() const {
  std::ostringstream os;
  os << num_features_ << ", eps=" << options_.eps << ", momentum=";
  if (options_.momentum) {
    os << *options_.momentum;
  } else {
    os << "none";
  }
  os << ", affine=" << (options_.affine ? "true" : "false")
     << ", track_running_stats=" << (options_.track_running_stats ? "true" : "false");
  return os.str();
}

LayerNorm::LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine)
    : Module("LayerNorm"), normalized_shape_(std::move(normalized_shape)), eps_(eps) {
  NABLA_CHECK(!normalized_shape_.empty() && numel(normalized_shape_) > 0, ValueError,
              "LayerNorm: normalized_shape must be non-empty, got ", normalized_shape_);
  if (elementwise_affine) {
    weight_ = register_parameter("weight", ones(normalized_shape_));
    bias_ = register_parameter("bias", zeros(normalized_shape_));
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  const int64_t k = static_cast<int64_t>(normalized_shape_.size());
  bool matches = x.dim() >= k && std::equal(normalized_shape_.begin(), normalized_shape_.end(),
                                            x.shape().end() - k);
  NABLA_CHECK(matches, ShapeError, "LayerNorm: input ", x.shape(), " does not end in ",
              normalized_shape_);
  Dims dims;
  for (int64_t d = x.dim() - k; d < x.dim(); ++d) dims.push_back(d);
  Tensor centered = sub(x, mean(x, dims, /*keepdim=*/true));
  Tensor y = mul(centered, rsqrt(add(var(x, dims, 0, /*keepdim=*/true), eps_)));
  if (weight_.defined()) y = add(mul(y, weight_), bias_);
  return y;
}

std::string LayerNorm::extra_repr() const {
  std::ostringstream os;
  os << normalized_shape_ << ", eps=" << eps_
     << ", elementwise_affine=" << (weight_.defined() ? "true" : "false");
  return os.str();
}

GroupNorm::GroupNorm(int64_t num_groups, int64_t num_channels, double eps, bool affine)
    : Module("GroupNorm"), num_groups_(num_groups), num_channels_(num_channels), eps_(eps) {
  NABLA_CHECK(num_groups > 0 && num_channels > 0 && num_channels % num_groups == 0, ValueError,
              "GroupNorm: num_groups (", num_groups, ") must divide num_channels (", num_channels,
              ")");
  if (affine) {
    weight_ = register_parameter("weight", ones({num_channels}));
    bias_ = register_parameter("bias", zeros({num_channels}));
  }
}

Tensor GroupNorm::forward(const Tensor& x) {
  NABLA_CHECK(x.dim() >= 2 && x.size(1) == num_channels_, ShapeError, "GroupNorm: input ",
              x.shape(), " must be [N, ", num_channels_, ", ...]");
  // x: [N, C, ...] -> [N, G, C / G * ...], normalized over the last dim.
  Tensor grouped = reshape(x, {x.size(0), num_groups_, -1});
  Tensor centered = sub(grouped, mean(grouped, {2}, /*keepdim=*/true));
  Tensor normalized = mul(centered, rsqrt(add(var(grouped, {2}, 0, /*keepdim=*/true), eps_)));
  Tensor y = reshape(normalized, x.shape());
  if (weight_.defined()) {
    y = add(mul(y, per_channel(weight_, x.dim())), per_channel(bias_, x.dim()));
  }
  return y;
}

std::string GroupNorm::extra_repr() const {
  std::ostringstream os;
  os << num_groups_ << ", " << num_channels_ << ", eps=" << eps_
     << ", affine=" << (weight_.defined() ? "true" : "false");
  return os.str();
}

}  // namespace nabla::nn
