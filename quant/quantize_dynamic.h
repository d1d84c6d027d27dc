// Dynamic quantization: Linear layers become DynamicQuantizedLinear (int8 weights, activations
// quantized per batch on the fly), with no calibration; everything else stays float.
#pragma once

#include <memory>

#include "nn/module.h"

namespace nabla::quant {

// A new model computing like `model` with its Linear layers dynamically quantized: a Linear
// itself, those of a Sequential (SmallCNN, MLP, nested Sequentials) and a ResNet's fc (the ResNet
// becomes a Sequential of its stem, stages, pooling and fc, with the same names). Other layers
// are shared with `model`, not copied; a module of another type inside a Sequential is shared
// whole, its own Linear layers left float. The result is in eval mode, and so are the layers it
// shares. A root of another type is a ValueError.
std::shared_ptr<nn::Module> quantize_dynamic(nn::Module& model);

}  // namespace nabla::quant
