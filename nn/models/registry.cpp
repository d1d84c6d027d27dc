// The model registry: a fixed table from name to constructor.
#include "nn/models/registry.h"

#include <functional>
#include <map>

#include "core/error.h"
#include "nn/models/cnn.h"
#include "nn/models/fastnet.h"
#include "nn/models/mlp.h"
#include "nn/models/resnet.h"

namespace nabla::nn::models {
namespace {

using Factory = std::function<std::shared_ptr<Module>(const ModelOptions&)>;

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table = {
      {"mlp", [](const ModelOptions& o) { return mlp(o); }},
      {"cnn", [](const ModelOptions& o) { return std::make_shared<SmallCNN>(o); }},
      {"resnet20", [](const ModelOptions& o) { return resnet20(o); }},
      {"resnet18", [](const ModelOptions& o) { return resnet18(o); }},
      {"fastnet", [](const ModelOptions& o) { return std::make_shared<FastNet>(o); }},
  };
  return table;
}

}  // namespace

std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const auto& [name, factory] : factories()) out.push_back(name);
  return out;
}

std::shared_ptr<Module> create(const std::string& name, const ModelOptions& options) {
  auto it = factories().find(name);
  if (it == factories().end()) {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    NABLA_CHECK(false, ValueError, "models::create: unknown model '", name, "'; known: ", known);
  }
  return it->second(options);
}

}  // namespace nabla::nn::models
