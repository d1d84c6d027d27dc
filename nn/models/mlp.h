// MLP: Linear layers with an activation (and optional dropout) between them; images are
// flattened first.
#pragma once

#include <vector>

#include "nn/containers.h"
#include "nn/models/options.h"

namespace nabla::nn::models {

class MLP : public Sequential {
 public:
  // sizes = {input, hidden..., output}, e.g. {784, 512, 256, 10}.
  MLP(const std::vector<int64_t>& sizes, const std::string& activation = "relu",
      double dropout = 0.0);
};

// The CLI's "mlp": input -> 512 -> 256 -> classes, hidden sizes scaled by options.width.
std::shared_ptr<Module> mlp(const ModelOptions& options = {});

}  // namespace nabla::nn::models
