// QuantizedAdd: the residual sum of two uint8 tensors, each at its own qparams, requantized to the
// output edge with an optional ReLU: the join of a ResNet block.
#pragma once

#include "quant/quantized_module.h"

namespace nabla::quant {

// out = clamp(round_half_even(fma(a - za, sa / so, (b - zb) * (sb / so))) + zo, lo, qmax) with
// lo = max(qmin, zo) under relu; float32 arithmetic in exactly this order, so that a scalar
// reference reproduces it bit for bit. a and b: uint8 of one shape.
Tensor quantized_add(const Tensor& a, const EdgeQParams& a_qparams, const Tensor& b,
                     const EdgeQParams& b_qparams, const EdgeQParams& output, bool relu);

class QuantizedAdd : public QuantizedModule {
 public:
  QuantizedAdd(const EdgeQParams& a, const EdgeQParams& b, const EdgeQParams& output, bool relu);

  // The module's call: a at a_qparams(), b at b_qparams() -> uint8 at output_qparams().
  Tensor add(const Tensor& a, const Tensor& b) const;
  // A ValueError: an add takes two inputs (the block that holds it calls add).
  Tensor forward(const Tensor& x) override;
  void refresh() override;

  const EdgeQParams& a_qparams() const { return a_; }
  const EdgeQParams& b_qparams() const { return b_; }
  const EdgeQParams& output_qparams() const { return output_; }
  bool relu() const { return relu_; }

 protected:
  std::string extra_repr() const override;

 private:
  EdgeQParams a_, b_, output_;
  bool relu_;
};

}  // namespace nabla::quant
