// MLP.
#include "nn/models/mlp.h"

#include <cmath>

#include "core/error.h"
#include "nn/activation.h"
#include "nn/dropout.h"
#include "nn/linear.h"

namespace nabla::nn::models {

int64_t scaled_width(int64_t base, double width) {
  NABLA_CHECK(width > 0, ValueError, "models: width must be positive, got ", width);
  return std::max<int64_t>(1, std::llround(double(base) * width));
}

MLP::MLP(const std::vector<int64_t>& sizes, const std::string& activation, double dropout)
    : Sequential("MLP") {
  NABLA_CHECK(sizes.size() >= 2, ValueError, "MLP: need at least an input and an output size, got ",
              sizes.size(), " sizes");
  push_back("flatten", std::make_shared<Flatten>());
  // x: [N, sizes[0]] -> [N, sizes[1]] -> ... -> [N, sizes.back()]
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    push_back("fc" + std::to_string(i + 1), std::make_shared<Linear>(sizes[i], sizes[i + 1]));
    if (i + 2 == sizes.size()) break;
    push_back("act" + std::to_string(i + 1), make_activation(activation));
    if (dropout > 0) push_back("drop" + std::to_string(i + 1), std::make_shared<Dropout>(dropout));
  }
}

std::shared_ptr<Module> mlp(const ModelOptions& options) {
  NABLA_CHECK(options.depth >= 0, ValueError, "mlp: depth must be 0 or more, got ", options.depth);
  // Hidden layers of 512 and 256 units; a deeper MLP repeats the last.
  std::vector<int64_t> sizes = {options.in_channels * options.image_size * options.image_size};
  const int64_t hidden = options.depth > 0 ? options.depth : 2;
  for (int64_t i = 0; i < hidden; ++i)
    sizes.push_back(scaled_width(i == 0 ? 512 : 256, options.width));
  sizes.push_back(options.num_classes);
  return std::make_shared<MLP>(sizes, options.activation, options.dropout);
}

}  // namespace nabla::nn::models
