// Weights for the int8 modules: float weights to per-channel symmetric int8 (or with the scales
// QAT learned), back to float for reference paths, and the checks every int8 layer makes.
#pragma once

#include <optional>

#include "core/tensor.h"
#include "quant/qscheme.h"

namespace nabla::quant {

struct QuantizedWeight {
  Tensor weight;  // int8, the float weight's shape, values in [-127, 127]
  Tensor scale;   // float32 [O]: one per output channel (dim 0)
};

// Symmetric per output channel: scale[o] = max |w[o]| / 127 (float32's epsilon for an all-zero
// channel), q = clamp(nearbyint(w / scale[o]), -127, 127): the int8 symmetric scheme with
// narrow_range, because the int8 kernels take weights in [-127, 127] (PyTorch's full range
// divides by 127.5).
QuantizedWeight quantize_weight_per_channel(const Tensor& weight);

// With given qparams (QAT's learned weight scales): per-tensor or per channel along dim 0, zero
// points 0; values clamped to [-127, 127], so a scheme without narrow_range loses its -128.
// A ValueError naming `op` otherwise.
QuantizedWeight quantize_weight_with(const Tensor& weight, const QParams& qparams, const char* op);

// q * scale[o] as float32: the weight an int8 one stands for.
Tensor dequantize_weight(const Tensor& weight, const Tensor& scale);

// The checks of the int8 layers' constructors: weight int8 with `ndim` dims, scale float32 with
// one value or one per output channel, bias undefined or float32 [O]. Returns the bias, zeros
// when undefined, and the scale expanded to [O].
struct CheckedWeight {
  Tensor scale, bias;
};
CheckedWeight check_quantized_weight(const Tensor& weight, const Tensor& scale, const Tensor& bias,
                                     int64_t ndim, const char* op);

}  // namespace nabla::quant
