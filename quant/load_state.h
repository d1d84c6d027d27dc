// Loading a checkpoint into a model whose observers and fake quantizers have not seen data yet:
// their per-channel tensors are still [1] or [0] while the checkpoint's are [C].
#pragma once

#include "nn/module.h"

namespace nabla::quant {

// Gives each per-channel tensor of an Observer or FakeQuantize inside `model` (their
// resizable() ones) the shape its entry in `state` has, so that model.load_state_dict(state)
// (strict) can then copy the values. Everything else is left alone: a mismatch there is still a
// real error.
void resize_quant_state(nn::Module& model, const nn::StateDict& state);

}  // namespace nabla::quant
