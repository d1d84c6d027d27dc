// DynamicQuantizedLinear: int8 per-channel weights fixed at conversion; the float activations are
// quantized per call from their own min and max (uint8 affine), then the int8 product dequantizes
// straight to float. No calibration: what quantize_dynamic puts in place of Linear.
#pragma once

#include "quant/int8_weight.h"
#include "quant/quantized_module.h"

namespace nabla::quant {

class DynamicQuantizedLinear : public QuantizedModule {
 public:
  // weight: int8 [N, K] in [-127, 127]; weight_scale: float32 [N] (or [1]); bias: float32 [N] or
  // undefined.
  DynamicQuantizedLinear(const Tensor& weight, const Tensor& weight_scale, const Tensor& bias);

  // x: float [..., K] -> float32 [..., N].
  Tensor forward(const Tensor& x) override;
  // The same through float: x quantized and dequantized at the same per-call qparams, times the
  // dequantized weight, plus bias. It differs from forward by float rounding only (~1e-6 relative).
  Tensor reference_forward(const Tensor& x) const;
  void refresh() override;

  // The qparams forward quantizes x with: choose_qparams over [min(x), max(x)], uint8 affine.
  static EdgeQParams activation_qparams(const Tensor& x);
  int64_t in_features() const { return weight_.size(1); }
  int64_t out_features() const { return weight_.size(0); }

 protected:
  std::string extra_repr() const override;

 private:
  Tensor weight_, weight_scale_, bias_;  // int8 [N, K], float32 [N], float32 [N]
  PackedInt8Weight packed_;
};

}  // namespace nabla::quant
