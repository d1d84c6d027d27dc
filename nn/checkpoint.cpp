// Checkpoints: splitting a checkpoint into safetensors names and metadata, and back.
#include "nn/checkpoint.h"

#include <set>

#include "core/error.h"

namespace nabla::nn {
namespace {

// Bumped when the layout of the metadata document changes incompatibly.
constexpr int kFormatVersion = 1;

std::string quote(const std::string& s) { return "'" + s + "'"; }

std::string first_component(const std::string& name) { return name.substr(0, name.find('.')); }

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint) {
  std::set<std::string> model_prefixes;
  for (const auto& [name, t] : checkpoint.model) model_prefixes.insert(first_component(name));

  NamedTensors tensors = checkpoint.model;
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& [group, entries] : checkpoint.groups) {
    NABLA_CHECK(!group.empty() && group.find('.') == std::string::npos, ValueError,
                "save_checkpoint: group name ", quote(group), " must be non-empty without '.'");
    NABLA_CHECK(!model_prefixes.count(group), ValueError, "save_checkpoint: group name ",
                quote(group), " is also the first part of a model tensor's name");
    groups.push_back(group);
    for (const auto& [name, t] : entries) tensors.emplace_back(group + "." + name, t);
  }
  nlohmann::json document = {{"version", kFormatVersion}, {"groups", groups}};
  document["state"] = checkpoint.state;
  std::string text;
  try {
    text = document.dump();
  } catch (const nlohmann::json::exception& e) {
    throw ValueError(
        detail::concat("save_checkpoint: the state document cannot be written (", e.what(), ")"));
  }
  save_safetensors(path, tensors, {{kCheckpointMetadataKey, text}});
}

Checkpoint checkpoint_from_safetensors(SafetensorsFile file, const std::string& source) {
  Checkpoint checkpoint;
  auto it = file.metadata.find(kCheckpointMetadataKey);
  if (it == file.metadata.end()) {
    checkpoint.model = std::move(file.tensors);
    return checkpoint;
  }

  std::string where = "load_checkpoint: " + source + ": metadata " + kCheckpointMetadataKey;
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception& e) {
    throw IOError(detail::concat(where, " is not valid JSON (", e.what(), ")"));
  }
  NABLA_CHECK(document.is_object() && document.contains("version") && document.contains("groups") &&
                  document.contains("state"),
              IOError, where, " is not an object with version, groups and state");
  const nlohmann::json& version = document["version"];
  NABLA_CHECK(version == kFormatVersion, IOError, where, " has version ", version.dump(),
              ", expected ", kFormatVersion);
  std::set<std::string> groups;
  NABLA_CHECK(document["groups"].is_array(), IOError, where, ": groups is not a list");
  for (const nlohmann::json& group : document["groups"]) {
    NABLA_CHECK(group.is_string(), IOError, where, ": group ", group.dump(), " is not a string");
    const auto& name = group.get_ref<const std::string&>();
    NABLA_CHECK(!name.empty() && name.find('.') == std::string::npos, IOError, where,
                ": group name ", quote(name), " must be non-empty without '.'");
    groups.insert(name);
    checkpoint.groups[name];  // a saved empty group comes back empty, not absent
  }
  checkpoint.state = std::move(document["state"]);

  for (auto& [name, t] : file.tensors) {
    std::string prefix = first_component(name);
    if (prefix.size() < name.size() && groups.count(prefix)) {
      checkpoint.groups[prefix].emplace_back(name.substr(prefix.size() + 1), std::move(t));
    } else {
      checkpoint.model.emplace_back(std::move(name), std::move(t));
    }
  }
  return checkpoint;
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  return checkpoint_from_safetensors(load_safetensors(path), quote(path.string()));
}

void save(const Module& module, const std::filesystem::path& path,
          const SafetensorsMetadata& metadata) {
  NABLA_CHECK(!metadata.count(kCheckpointMetadataKey), ValueError, "nn::save: the metadata key ",
              quote(kCheckpointMetadataKey), " is reserved for checkpoints");
  save_safetensors(path, module.state_dict(), metadata);
}

LoadReport load(Module& module, const std::filesystem::path& path, bool strict) {
  Checkpoint checkpoint = load_checkpoint(path);
  try {
    return module.load_state_dict(checkpoint.model, strict);
  } catch (const ValueError& e) {
    throw ValueError(detail::concat("nn::load: ", quote(path.string()), ": ", e.what()));
  }
}

}  // namespace nabla::nn
