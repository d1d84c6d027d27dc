// SmallCNN.
#include "nn/models/cnn.h"

#include "core/error.h"
#include "nn/activation.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/pooling.h"

namespace nabla::nn::models {

SmallCNN::SmallCNN(const ModelOptions& options) : Sequential("SmallCNN") {
  int64_t channels = options.in_channels, size = options.image_size;
  NABLA_CHECK(options.depth >= 0, ValueError, "SmallCNN: depth must be 0 or more, got ",
              options.depth);
  const int64_t convs_per_stage = options.depth > 0 ? options.depth : 1;
  // x: [N, C, S, S] -> [N, 32w, S/2, S/2] -> [N, 64w, S/4, S/4] -> [N, 128w, S/8, S/8]
  int64_t stage_number = 0;
  for (int64_t base : {32, 64, 128}) {
    int64_t out = scaled_width(base, options.width);
    std::string stage = std::to_string(++stage_number);
    // A stage's first convolution keeps the one-conv model's names: conv1, act1; later ones are
    // conv1_2, act1_2, ...
    for (int64_t i = 1; i <= convs_per_stage; ++i) {
      const std::string suffix = i == 1 ? stage : stage + "_" + std::to_string(i);
      push_back("conv" + suffix,
                std::make_shared<Conv2d>(channels, out, 3, Conv2dOptions{.padding = 1}));
      push_back("act" + suffix, make_activation(options.activation));
      channels = out;
    }
    push_back("pool" + stage, std::make_shared<MaxPool2d>(2));
    channels = out;
    size /= 2;
  }
  push_back("flatten", std::make_shared<Flatten>());
  if (options.dropout > 0) push_back("drop", std::make_shared<Dropout>(options.dropout));
  // [N, 128w * (S/8)^2] -> [N, classes]
  push_back("fc", std::make_shared<Linear>(channels * size * size, options.num_classes));
}

}  // namespace nabla::nn::models
