// Conv2d over NCHW input, with stride, padding, dilation, groups and an optional bias.
#pragma once

#include "core/backend.h"
#include "nn/weighted_layer.h"

namespace nabla::nn {

struct Conv2dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

class Conv2d : public WeightedLayer {
 public:
  // weight [out, in / groups, k, k] and bias [out], drawn as PyTorch does:
  // U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in / groups * k * k.
  //   Conv2d(3, 64, 3, {.padding = 1, .bias = false})
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
         Conv2dOptions options = {});

  // x [N, in, H, W] -> [N, out, OH, OW]
  Tensor forward_with_weight(const Tensor& x, const Tensor& weight) override;
  const Tensor& weight() const override { return weight_; }
  const Tensor& bias() const { return bias_; }
  const Conv2dParams& params() const { return params_; }
  void reset_parameters();

 protected:
  std::string extra_repr() const override;

 private:
  int64_t in_channels_, out_channels_, kernel_size_;
  Conv2dParams params_;
  Tensor weight_, bias_;
};

}  // namespace nabla::nn
