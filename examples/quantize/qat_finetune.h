// nabla-quantize's quantization-aware fine-tuning: a few epochs of a prepare_qat model on the
// training run's own data pipeline, an optimizer from the registry, and the QatSchedule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "datasets.h"
#include "nabla.h"

namespace nabla::quantize {

struct QatOptions {
  int64_t epochs = 1;
  int64_t steps_per_epoch = 0;  // 0: the whole training set each epoch
  std::string optimizer = "sgd";
  std::vector<std::string> optimizer_options;  // key=value, as nabla-train's --opt
  double lr = 1e-3;
  int64_t batch_size = 128;
  int64_t workers = 2;
  uint64_t seed = 0;
  std::optional<int64_t> observer_freeze_epoch, bn_freeze_epoch;  // counting from 0
};

// Trains `model` (prepared with prepare_qat) on data.train with its augmentation, the inputs
// normalized by `preprocess`, cross-entropy loss; calls schedule.on_epoch_start before each
// epoch. Prints one line per epoch unless quiet. Leaves the model in eval mode.
void qat_finetune(nn::Module& model, const train::TrainingData& data,
                  const std::function<Tensor(const Tensor&)>& preprocess, const Tensor& example,
                  const QatOptions& options, bool quiet);

}  // namespace nabla::quantize
