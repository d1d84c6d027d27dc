// calibrate: runs a prepared model over calibration data so that its observers record the
// ranges of every quantization point.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "core/tensor.h"
#include "data/loader.h"
#include "nn/module.h"

namespace nabla::quant {

// Runs model(x) for up to `batches` batches x from next_batch (which returns nullopt when the
// data ends) in eval mode without gradient, observers recording; restores the training mode and
// switches observation off again, also when a batch throws. Returns the batches run. The model
// must be prepared (prepare or prepare_qat, whose fake quantizers observe while their observers
// are enabled); batches must be positive.
int64_t calibrate(nn::Module& model, const std::function<std::optional<Tensor>()>& next_batch,
                  int64_t batches);

// The same over one epoch of a loader, each batch's inputs passed through preprocess first when
// given (the per-channel normalization the model was trained with).
int64_t calibrate(nn::Module& model, data::DataLoader& loader, int64_t batches,
                  const std::function<Tensor(const Tensor&)>& preprocess = nullptr);

}  // namespace nabla::quant
