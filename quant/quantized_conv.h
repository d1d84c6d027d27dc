// QuantizedConv2d: a convolution on uint8 activations with a per-channel int8 weight, its bias
// in float, and the requantization to the next edge (or to float) and an optional ReLU fused in.
#pragma once

#include <optional>

#include "core/backend.h"
#include "quant/int8_weight.h"
#include "quant/quantized_module.h"

namespace nabla::quant {

class QuantizedConv2d : public QuantizedModule {
 public:
  // weight: int8 [O, C / groups, KH, KW] in [-127, 127]; weight_scale: float32 [O] (or [1]);
  // bias: float32 [O] or undefined (zeros). output nullopt: float32 output.
  QuantizedConv2d(const Tensor& weight, const Tensor& weight_scale, const Tensor& bias,
                  const Conv2dParams& params, const EdgeQParams& input,
                  std::optional<EdgeQParams> output, bool relu);

  // x: uint8 [N, C, H, W] at input_qparams() -> [N, O, OH, OW], uint8 at output_qparams() or
  // float32.
  Tensor forward(const Tensor& x) override;
  // The same through float: dequantize x and the weight, conv2d, bias, ReLU, then quantize to
  // the output edge. It differs from forward only by the rounding of the float sums: at most one
  // step of the output on a few elements.
  Tensor reference_forward(const Tensor& x) const;
  void refresh() override;

  const EdgeQParams& input_qparams() const { return input_; }
  const std::optional<EdgeQParams>& output_qparams() const { return output_; }
  const Conv2dParams& params() const { return params_; }
  bool relu() const { return relu_; }
  const PackedInt8Weight& packed_weight() const { return packed_; }

 protected:
  std::string extra_repr() const override;

 private:
  Conv2dParams params_;
  EdgeQParams input_;
  std::optional<EdgeQParams> output_;
  bool relu_;
  Tensor weight_, weight_scale_, bias_;  // int8 [O, C / g, KH, KW], float32 [O], float32 [O]
  PackedInt8Weight packed_;
};

}  // namespace nabla::quant
