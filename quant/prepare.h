// prepare: post-training quantization's first step, an observer on every quantization point of a
// model (and on its input), which calibrate then feeds with data.
#pragma once

#include "nn/module.h"
#include "quant/prepared.h"

namespace nabla::quant {

// Attaches to every quantization point (see quantization_points; with example_input, fused
// chains keep only their last output) a child kOutputObserver made from config's activation
// observer, and a forward hook that observes the point's output; with config.quantize_input,
// a kInputObserver on the root and a hook observing the root's input. The observers are
// registered children, so that their ranges are in the state dict and a calibrated model can be
// saved and loaded (into a model prepared the same way; resize_quant_state first). They record
// only while observing is on (calibrate), never in plain inference. A model that is already
// prepared is a ValueError.
void prepare(nn::Module& model, const QuantConfig& config = {},
             const Tensor& example_input = Tensor());

}  // namespace nabla::quant
