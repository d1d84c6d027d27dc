// Pooling layers over NCHW input: max, average, and adaptive average.
#pragma once

#include "core/backend.h"
#include "nn/module.h"

namespace nabla::nn {

struct Pool2dOptions {
  int64_t stride = 0;  // 0: the kernel size
  int64_t padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;  // average pooling only
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int64_t kernel_size, Pool2dOptions options = {});
  Tensor forward(const Tensor& x) override;
  // What quantized conversion copies into its uint8 pooling.
  const Pool2dParams& params() const { return params_; }

 protected:
  std::string extra_repr() const override;

 private:
  Pool2dParams params_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(int64_t kernel_size, Pool2dOptions options = {});
  Tensor forward(const Tensor& x) override;

 protected:
  std::string extra_repr() const override;

 private:
  Pool2dParams params_;
};

// Averages over windows chosen so that the output is [N, C, OH, OW] whatever the input size:
// output cell i covers input rows floor(i H / OH) to ceil((i + 1) H / OH), as in PyTorch.
Tensor adaptive_avg_pool2d(const Tensor& x, int64_t output_height, int64_t output_width);

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(int64_t output_size) : AdaptiveAvgPool2d(output_size, output_size) {}
  AdaptiveAvgPool2d(int64_t output_height, int64_t output_width);
  Tensor forward(const Tensor& x) override {
    return adaptive_avg_pool2d(x, output_height_, output_width_);
  }

 protected:
  std::string extra_repr() const override;

 private:
  int64_t output_height_, output_width_;
};

}  // namespace nabla::nn
