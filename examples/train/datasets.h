// The datasets nabla-train knows, as the splits and transforms a run needs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "nabla.h"

namespace nabla::train {

struct TrainingData {
  std::shared_ptr<const data::Dataset> train;
  std::shared_ptr<const data::Dataset> validation;  // null without --validation
  std::shared_ptr<const data::Dataset> test;
  // Random crop and flip of the uint8 images, in the loader's workers; null without --augment.
  data::TransformPtr augmentation;
  // Per-channel statistics of the training images in [0, 1], for normalizing whole batches on
  // the training device.
  std::vector<float> mean, std;
  std::vector<std::string> classes;
  int64_t channels = 0;
  int64_t image_size = 0;  // square images
  // Lines for the start of a run: where the data came from, how many images, and whether only a
  // subset of the official set was found.
  std::string summary;
};

// cifar10, cifar100, fashion-mnist or imagefolder, found as --data (or the usual search) says.
TrainingData load_training_data(const TrainConfig& config);

}  // namespace nabla::train
