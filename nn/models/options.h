// What every model constructor takes: the data's shape, the number of classes, and width and depth
// settings for scaling a model up or down.
#pragma once

#include <cstdint>
#include <string>

namespace nabla::nn::models {

struct ModelOptions {
  int64_t num_classes = 10;
  int64_t in_channels = 3;
  int64_t image_size = 32;  // square images, height = width
  double width = 1.0;       // multiplies every hidden width (channels, units)
  std::string activation = "relu";
  double dropout = 0.0;
  // 0: the model's own depth. Otherwise the layers of each stage (SmallCNN: convolutions; ResNets:
  // residual blocks) or, for the MLP, its hidden layers. FastNet has no depth setting.
  int64_t depth = 0;
};

// round(base * width), at least 1.
int64_t scaled_width(int64_t base, double width);

}  // namespace nabla::nn::models
