// QuantizedLinear: y = x W^T + b on uint8 activations with a per-channel int8 weight [N, K], the
// requantization to the next edge (or to float) and an optional ReLU fused in.
#pragma once

#include <optional>

#include "quant/int8_weight.h"
#include "quant/quantized_module.h"

namespace nabla::quant {

class QuantizedLinear : public QuantizedModule {
 public:
  // weight: int8 [N, K] in [-127, 127]; weight_scale: float32 [N] (or [1]); bias: float32 [N] or
  // undefined (zeros). output nullopt: float32 output.
  QuantizedLinear(const Tensor& weight, const Tensor& weight_scale, const Tensor& bias,
                  const EdgeQParams& input, std::optional<EdgeQParams> output, bool relu);

  // x: uint8 [..., K] at input_qparams() -> [..., N], uint8 at output_qparams() or float32.
  Tensor forward(const Tensor& x) override;
  // Through float (dequantize, matmul, bias, ReLU, quantize); as QuantizedConv2d's.
  Tensor reference_forward(const Tensor& x) const;
  void refresh() override;

  const EdgeQParams& input_qparams() const { return input_; }
  const std::optional<EdgeQParams>& output_qparams() const { return output_; }
  bool relu() const { return relu_; }
  int64_t in_features() const { return weight_.size(1); }
  int64_t out_features() const { return weight_.size(0); }

 protected:
  std::string extra_repr() const override;

 private:
  EdgeQParams input_;
  std::optional<EdgeQParams> output_;
  bool relu_;
  Tensor weight_, weight_scale_, bias_;  // int8 [N, K], float32 [N], float32 [N]
  PackedInt8Weight packed_;
};

}  // namespace nabla::quant
