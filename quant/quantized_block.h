// QuantizedBasicBlock: a ResNet basic block on uint8 activations: conv1 with its ReLU fused, conv2,
// the shortcut (identity, a projection conv, or subsampling with zero channels) and the residual
// QuantizedAdd with the block's final ReLU.
#pragma once

#include <memory>

#include "quant/quantized_add.h"
#include "quant/quantized_conv.h"

namespace nabla::quant {

class QuantizedBasicBlock : public QuantizedModule {
 public:
  // projection: null for an identity or zero-pad shortcut. stride and pad_channels describe the
  // zero-pad shortcut (every stride-th pixel, then pad_channels channels at the input's zero
  // point, the quantized 0.0); add.b_qparams() must then be conv1's input qparams.
  QuantizedBasicBlock(std::shared_ptr<QuantizedConv2d> conv1,
                      std::shared_ptr<QuantizedConv2d> conv2,
                      std::shared_ptr<QuantizedConv2d> projection,
                      std::shared_ptr<QuantizedAdd> add, int64_t stride, int64_t pad_channels);

  // x: uint8 [N, in, H, W] -> uint8 [N, out, H / stride, W / stride] at add's output qparams.
  Tensor forward(const Tensor& x) override;
  // The shortcut's output, at add's b qparams.
  Tensor shortcut(const Tensor& x);

 protected:
  std::string extra_repr() const override;

 private:
  std::shared_ptr<QuantizedConv2d> conv1_, conv2_, projection_;
  std::shared_ptr<QuantizedAdd> add_;
  int64_t stride_, pad_channels_;
};

}  // namespace nabla::quant
