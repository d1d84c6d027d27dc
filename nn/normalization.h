// Normalization layers: BatchNorm1d/2d (batch statistics in training, running statistics in
// eval, as PyTorch), LayerNorm and GroupNorm (per-sample statistics, the same in both modes).
#pragma once

#include <optional>

#include "core/backend.h"
#include "nn/module.h"

namespace nabla::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  // Weight of the newest batch in the running averages; nullopt: a cumulative average.
  std::optional<double> momentum = 0.1;
  bool affine = true;
  bool track_running_stats = true;
};

// The shared implementation; BatchNorm1d and BatchNorm2d fix which input ranks are valid.
class BatchNorm : public Module {
 public:
  // x [N, C, ...] -> same shape. Training: normalize by the batch's mean and biased variance,
  // and fold them into running_mean / running_var (unbiased). Eval, or statistics frozen: use
  // the running values.
  Tensor forward(const Tensor& x) override;
  // forward(x), then the epilogue's residual added and its ReLU applied: in training, in the
  // same pass over the tensor.
  Tensor forward(const Tensor& x, const BatchNormEpilogue& epilogue);

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }
  const Tensor& running_mean() const { return running_mean_; }
  const Tensor& running_var() const { return running_var_; }
  const Tensor& num_batches_tracked() const { return num_batches_tracked_; }
  double eps() const { return options_.eps; }
  int64_t num_features() const { return num_features_; }
  void reset_running_stats();

  // Frozen, the layer normalizes with its running statistics and never updates them, in train
  // mode too (PyTorch QAT's freeze_bn_stats): once batch norm is folded into the convolution
  // before it, training must see the statistics int8 inference will use. Gradients still reach
  // weight, bias and the input. Needs track_running_stats. Not saved in the state dict: a model
  // loaded from a checkpoint freezes again.
  void freeze_statistics(bool on = true);
  bool statistics_frozen() const { return statistics_frozen_; }

 protected:
  BatchNorm(std::string type_name, std::vector<int64_t> valid_ranks, int64_t num_features,
            BatchNormOptions options);
  std::string extra_repr() const override;

 private:
  void update_running_stats(const Tensor& mean, const Tensor& var, int64_t count);

  std::vector<int64_t> valid_ranks_;
  int64_t num_features_;
  BatchNormOptions options_;
  bool statistics_frozen_ = false;
  Tensor weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};

// Input [N, C] or [N, C, L].
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions options = {})
      : BatchNorm("BatchNorm1d", {2, 3}, num_features, options) {}
};

// Input [N, C, H, W].
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, BatchNormOptions options = {})
      : BatchNorm("BatchNorm2d", {4}, num_features, options) {}
};

// act(bn(x) + residual) (no residual when undefined). When act is a ReLU and no forward hook or
// transform watches bn or act (has_forward_hooks), so that nobody sees or changes the tensors in
// between, it runs as BatchNorm's fused epilogue; otherwise module by module.
Tensor batch_norm_activation(BatchNorm& bn, Module& act, const Tensor& x,
                             const Tensor& residual = Tensor());

// Normalizes over the trailing dims given by normalized_shape, per sample.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& x) override;

 protected:
  std::string extra_repr() const override;

 private:
  Shape normalized_shape_;
  double eps_;
  Tensor weight_, bias_;
};

// Splits the C channels of x [N, C, ...] into groups and normalizes each group per sample; the
// affine weight and bias are per channel.
class GroupNorm : public Module {
 public:
  GroupNorm(int64_t num_groups, int64_t num_channels, double eps = 1e-5, bool affine = true);
  Tensor forward(const Tensor& x) override;

 protected:
  std::string extra_repr() const override;

 private:
  int64_t num_groups_, num_channels_;
  double eps_;
  Tensor weight_, bias_;
};

}  // namespace nabla::nn
