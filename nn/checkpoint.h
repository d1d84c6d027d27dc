// Checkpoints in the safetensors layout: a module's state dict, or a training checkpoint that adds
// optimizer state and a JSON document, in one file that PyTorch's safetensors can read.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "nn/module.h"
#include "nn/safetensors.h"

namespace nabla::nn {

// The metadata key that holds a checkpoint's groups and JSON document.
inline constexpr const char* kCheckpointMetadataKey = "nabla";

// What a training run saves. The model's tensors keep their plain names (`layer1.0.conv1.weight`),
// so the file loads into a PyTorch model as is; each group's tensors are stored as
// `<group>.<name>` (`optim.layer1.0.conv1.weight.exp_avg`). The JSON document (step, epoch, RNG and
// schedule state) is stored as a string in the metadata; a NaN or infinity in it becomes null.
struct Checkpoint {
  StateDict model;
  // Group names are non-empty, have no '.', and are not the first part of a model tensor's name.
  std::map<std::string, NamedTensors> groups;
  nlohmann::json state;
};

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint);
// A file without nabla's metadata (one PyTorch wrote) loads as a checkpoint with only a model.
Checkpoint load_checkpoint(const std::filesystem::path& path);
// The split load_checkpoint makes, from a file already read; `source` names it in errors.
Checkpoint checkpoint_from_safetensors(SafetensorsFile file, const std::string& source);

// A module's state dict with free-form metadata (the key "nabla" is reserved).
void save(const Module& module, const std::filesystem::path& path,
          const SafetensorsMetadata& metadata = {});
// Loads the model part of a file that save or save_checkpoint wrote (or any safetensors file)
// into `module`; strict as in Module::load_state_dict, with errors naming the file.
LoadReport load(Module& module, const std::filesystem::path& path, bool strict = true);

}  // namespace nabla::nn
