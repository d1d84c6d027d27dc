// Pooling on uint8 activations. Both keep their input's qparams: a max of quantized values is the
// quantized max, and a rounded mean of them is the mean to within half a step.
#pragma once

#include "core/backend.h"
#include "quant/quantized_module.h"

namespace nabla::quant {

class QuantizedMaxPool2d : public QuantizedModule {
 public:
  explicit QuantizedMaxPool2d(const Pool2dParams& params);
  // x: uint8 [N, C, H, W] -> uint8 [N, C, OH, OW], at x's qparams.
  Tensor forward(const Tensor& x) override;
  const Pool2dParams& params() const { return params_; }

 protected:
  std::string extra_repr() const override;

 private:
  Pool2dParams params_;
};

// adaptive_avg_pool2d(x, 1, 1) on uint8: [N, C, H, W] -> [N, C, 1, 1], at x's qparams.
class QuantizedGlobalAvgPool2d : public QuantizedModule {
 public:
  QuantizedGlobalAvgPool2d() : QuantizedModule("QuantizedGlobalAvgPool2d") {}
  Tensor forward(const Tensor& x) override;
};

}  // namespace nabla::quant
