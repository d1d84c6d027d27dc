// The edges between float and int8 parts of a model: Quantize (float -> uint8 at fixed qparams)
// and Dequantize (uint8 -> float).
#pragma once

#include "quant/quantized_module.h"

namespace nabla::quant {

class Quantize : public QuantizedModule {
 public:
  explicit Quantize(const EdgeQParams& output);
  // x: float, any shape -> uint8, same shape.
  Tensor forward(const Tensor& x) override;
  void refresh() override { output_ = read_edge("output", "Quantize::refresh"); }
  const EdgeQParams& output_qparams() const { return output_; }

 protected:
  std::string extra_repr() const override;

 private:
  EdgeQParams output_;
};

class Dequantize : public QuantizedModule {
 public:
  explicit Dequantize(const EdgeQParams& input);
  // x: uint8, any shape -> float32, same shape.
  Tensor forward(const Tensor& x) override;
  void refresh() override { input_ = read_edge("input", "Dequantize::refresh"); }
  const EdgeQParams& input_qparams() const { return input_; }

 protected:
  std::string extra_repr() const override;

 private:
  EdgeQParams input_;
};

}  // namespace nabla::quant
