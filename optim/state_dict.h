// What an optimizer saves (named tensors plus a JSON document) and the report of what a load
// matched.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "optim/state.h"

namespace nabla::optim {

// Tensors under "<parameter name>.<slot>", ready for a safetensors checkpoint, and a JSON document
// with everything else (steps, group options, counters). The tensors are copies, so a saved dict
// does not change as training goes on.
struct StateDict {
  NamedTensors tensors;
  nlohmann::json json = nlohmann::json::object();

  // The tensor saved under `name`; undefined when absent.
  Tensor tensor(const std::string& name) const;
};

// What load_state_dict found, by parameter name: state loaded (matched), parameters the dict has
// no state for (missing: they start fresh), state for parameters the optimizer lacks (unexpected:
// ignored), and state saved for a parameter of another shape (mismatched: dropped).
struct LoadReport {
  std::vector<std::string> matched;
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
  std::vector<std::string> mismatched;

  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  // "matched 3, missing 1 (fc.bias), unexpected 0, mismatched 0".
  std::string to_string() const;
};

}  // namespace nabla::optim
