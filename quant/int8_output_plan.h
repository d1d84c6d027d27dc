// The per-channel arrays of an int8 product's fused output step (kernels::Epilogue), made once
// per call from the weight, the input's quantization and the Requantization. Private to quant/.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "quant/int8_requant.h"
#include "quant/int8_weight.h"
#include "quant/kernels/int8_kernels.h"

namespace nabla::quant {

class OutputPlan {
 public:
  // bias: undefined or float32 [out_channels]; `out` undefined means int32 output.
  OutputPlan(const PackedInt8Weight& w, int64_t x_zero_point, float x_scale, const Tensor& bias,
             const Requantization* out, const char* op);

  // The epilogue of group g's product, whose element (0, 0) is at `out`, rows `ld` apart.
  kernels::Epilogue group(int64_t g, void* out, int64_t ld, bool channels_on_rows) const;

 private:
  kernels::Epilogue base_;
  int64_t padded_ = 0;
  // [groups][padded] like the weight's row sums.
  std::vector<int32_t> correction_;
  std::vector<float> multiplier_, offset_;
};

}  // namespace nabla::quant
