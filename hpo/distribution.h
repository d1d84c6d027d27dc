// The range a parameter is drawn from (float, int, categorical), the values it takes, and the
// internal numbers samplers work with: the value itself for float and int, the choice's index for
// a categorical.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace nabla::hpo {

// A parameter's value as the objective sees it.
using ParamValue = std::variant<bool, int64_t, double, std::string>;
std::string to_string(const ParamValue& value);
nlohmann::json to_json(const ParamValue& value);
// JSON integers become int64_t, other numbers double, strings and booleans themselves.
ParamValue param_value_from_json(const nlohmann::json& j);

struct FloatDistribution {
  double low = 0, high = 1;
  bool log = false;
  std::optional<double> step;  // a grid low, low + step, ...; never with log
  bool operator==(const FloatDistribution&) const = default;
};

struct IntDistribution {
  int64_t low = 0, high = 1;
  bool log = false;
  int64_t step = 1;  // must be 1 with log
  bool operator==(const IntDistribution&) const = default;
};

struct CategoricalDistribution {
  std::vector<ParamValue> choices;
  bool operator==(const CategoricalDistribution&) const = default;
};

using Distribution = std::variant<FloatDistribution, IntDistribution, CategoricalDistribution>;

// The checked forms: a ValueError names the parameter and what is wrong (low > high, log with a
// non-positive low, log with a step, no choices, duplicate choices). A step that does not divide
// the range moves `high` down to the last point on the grid, as Optuna does.
FloatDistribution make_float(const std::string& name, double low, double high, bool log,
                             std::optional<double> step);
IntDistribution make_int(const std::string& name, int64_t low, int64_t high, bool log,
                         int64_t step);
CategoricalDistribution make_categorical(const std::string& name, std::vector<ParamValue> choices);

// The internal number of `value`, or nothing if `value` is not one the distribution can produce
// (outside the range, off the step grid, not among the choices, or of another kind).
std::optional<double> to_internal(const Distribution& d, const ParamValue& value);
ParamValue to_external(const Distribution& d, double internal);
// A value the distribution can produce, as an internal number: rounds to the step grid and clamps
// into the range; a categorical index is rounded and clamped.
double snap(const Distribution& d, double internal);

// Whether the distribution has finitely many values, and how many (float without step: none).
std::optional<int64_t> cardinality(const Distribution& d);
// True where one value only can come out (low == high, one choice).
bool is_single(const Distribution& d);

nlohmann::json to_json(const Distribution& d);
// A ValueError on a malformed document (a search-space file, a storage row).
Distribution distribution_from_json(const nlohmann::json& j);

}  // namespace nabla::hpo
