// SmallCNN: three conv3x3-activation-maxpool stages (32, 64, 128 channels) and one Linear layer.
// On CIFAR-10 it has 113,738 parameters.
#pragma once

#include "nn/containers.h"
#include "nn/models/options.h"

namespace nabla::nn::models {

class SmallCNN : public Sequential {
 public:
  explicit SmallCNN(const ModelOptions& options = {});
};

}  // namespace nabla::nn::models
