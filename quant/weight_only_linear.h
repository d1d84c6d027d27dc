// WeightOnlyLinear: weight-only quantization. The weight is stored as int4 (two per byte) or int8
// with one symmetric scale per output row and group of input features; activations stay float,
// and forward multiplies by the weight dequantized on the fly. It saves memory (8x smaller weights
// at 4 bits), not arithmetic: what quantize_weight_only puts in place of Linear.
#pragma once

#include <cstdint>

#include "quant/qscheme.h"
#include "quant/quantized_module.h"

namespace nabla::quant {

struct WeightOnlyOptions {
  // int4 ([-7, 7], packed two per byte) or int8 ([-127, 127]); symmetric, narrow range.
  QDType dtype = QDType::int4;
  // Input features that share a scale within a row; 0: the whole row. Smaller groups follow the
  // weights' local range more closely at the cost of one float scale per group.
  int64_t group_size = 32;
};

class WeightOnlyLinear : public QuantizedModule {
 public:
  // weight: float [N, K], bias: float [N] or undefined. A ValueError for an unsupported dtype
  // (uint8), a negative group size or a non-finite weight.
  WeightOnlyLinear(const Tensor& weight, const Tensor& bias, const WeightOnlyOptions& options);

  // x: float [..., K] -> float32 [..., N].
  Tensor forward(const Tensor& x) override;
  // The weight the stored integers stand for, float32 [N, K]: q * scale of its row and group.
  Tensor dequantized_weight() const;
  void refresh() override;

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return scale_.size(0); }
  int64_t group_size() const { return group_; }
  QDType dtype() const { return dtype_; }

 protected:
  std::string extra_repr() const override;

 private:
  // Rows are packed separately (an odd K leaves a padding nibble), so row r starts at byte
  // r * row_bytes().
  int64_t row_bytes() const {
    return dtype_ == QDType::int4 ? (in_features_ + 1) / 2 : in_features_;
  }

  QDType dtype_;
  int64_t in_features_, group_;  // group_: K when the options asked for whole rows
  // int4: uint8 [N, ceil(K / 2)], low nibble first; int8: int8 [N, K]. scale: float32
  // [N, ceil(K / group)]. bias: float32 [N].
  Tensor weight_, scale_, bias_;
};

}  // namespace nabla::quant
