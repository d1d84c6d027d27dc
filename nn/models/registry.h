// Models by name, for the training program and architecture search: "mlp", "cnn", "resnet20",
// "resnet18", "fastnet".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/models/options.h"
#include "nn/module.h"

namespace nabla::nn::models {

std::shared_ptr<Module> create(const std::string& name, const ModelOptions& options = {});
std::vector<std::string> names();

}  // namespace nabla::nn::models
