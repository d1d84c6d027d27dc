// Inference latency as a tuning objective: a model's forward pass timed on the device it runs on.
#pragma once

#include "nabla.h"

namespace nabla::hpo_cifar10 {

// The shortest wall time in milliseconds of `repeats` forward passes of `input_shape` zeros, in
// evaluation mode without autograd, after a few untimed passes that fill the caches and the
// allocator. The model's training mode is restored.
double inference_latency_ms(nn::Module& model, const Shape& input_shape, Device device,
                            int repeats = 25);

}  // namespace nabla::hpo_cifar10
