// A search space written as JSON, for studies defined outside C++ (nabla-hpo): each parameter's
// distribution, and conditions that make a parameter exist only for some values of another.
//   {"optimizer": {"type": "categorical", "choices": ["sgd", "adam"]},
//    "lr":        {"type": "float", "low": 1e-4, "high": 0.1, "log": true},
//    "momentum":  {"type": "float", "low": 0.0, "high": 0.99, "if": {"optimizer": "sgd"}}}
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hpo/distribution.h"
#include "hpo/trial.h"

namespace nabla::hpo {

struct ParamSpec {
  std::string name;
  Distribution distribution;
  // The parameter exists when every named parameter exists and took one of the listed values.
  std::map<std::string, std::vector<ParamValue>> conditions;
};

// In the document's order; a condition may name only a parameter listed before it. A ValueError
// names the parameter and what is wrong.
std::vector<ParamSpec> parse_search_space(const nlohmann::ordered_json& document);

// Suggests every parameter whose conditions hold, in order; returns what was suggested.
std::map<std::string, ParamValue> suggest_all(Trial& trial, const std::vector<ParamSpec>& space);

}  // namespace nabla::hpo
