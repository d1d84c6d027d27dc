// Dynamic quantization: Linear layers become DynamicQuantizedLinear (int8 weights, activations
// quantized per batch on the fly), with no calibration; everything else stays float. And
// weight-only quantization, which stores Linear weights in int4 or int8 and computes in float.
#pragma once

#include <memory>

#include "nn/module.h"
#include "quant/weight_only_linear.h"

namespace nabla::quant {

// A new model computing like `model` with its Linear layers dynamically quantized: a Linear
// itself, those of a Sequential (SmallCNN, MLP, nested Sequentials) and a ResNet's fc (the ResNet
// becomes a Sequential of its stem, stages, pooling and fc, with the same names). Other layers
// are shared with `model`, not copied; a module of another type inside a Sequential is shared
// whole, its own Linear layers left float. The result is in eval mode, and so are the layers it
// shares. A root of another type is a ValueError.
std::shared_ptr<nn::Module> quantize_dynamic(nn::Module& model);

// Weight-only quantization: the same rebuild with WeightOnlyLinear in place of each Linear (int4
// or int8 weights with per-group scales, float activations). A ValueError as above, or for
// options WeightOnlyLinear refuses.
std::shared_ptr<nn::Module> quantize_weight_only(nn::Module& model,
                                                 const WeightOnlyOptions& options = {});

}  // namespace nabla::quant
