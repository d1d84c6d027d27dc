// A trial as storage keeps it: its state, parameters, values, reports and attributes. Finished
// trials never change, so storages share them as `TrialPtr`.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hpo/distribution.h"

namespace nabla::hpo {

enum class Direction : uint8_t { minimize, maximize };
const char* name(Direction d);
Direction direction_from_name(const std::string& s);  // "minimize" / "maximize", else ValueError

// waiting: enqueued, not yet claimed by a worker.
enum class TrialState : uint8_t { running, waiting, complete, pruned, failed };
const char* name(TrialState s);
TrialState trial_state_from_name(const std::string& s);
inline bool is_finished(TrialState s) {
  return s == TrialState::complete || s == TrialState::pruned || s == TrialState::failed;
}

using Clock = std::chrono::system_clock;

struct FrozenTrial {
  int64_t id = -1;      // unique within the storage
  int64_t number = -1;  // 0, 1, ... within the study, in creation order
  TrialState state = TrialState::running;
  std::vector<double> values;  // one per objective; empty unless complete
  std::map<std::string, ParamValue> params;
  std::map<std::string, Distribution> distributions;
  // step -> reported values (one per objective)
  std::map<int64_t, std::vector<double>> intermediate_values;
  nlohmann::json user_attrs = nlohmann::json::object();
  nlohmann::json system_attrs = nlohmann::json::object();
  std::optional<Clock::time_point> started, completed;

  // The single objective's value; a ValueError for a multi-objective or unfinished trial.
  double value() const;
  // The internal number of parameter `name` under `d`, when this trial has that parameter and
  // `d` could have produced its value (ranges and choices may change between trials).
  std::optional<double> internal_value(const std::string& name, const Distribution& d) const;
  // The last reported step, if any.
  std::optional<int64_t> last_step() const;
};

using TrialPtr = std::shared_ptr<const FrozenTrial>;

nlohmann::json to_json(const FrozenTrial& t);
FrozenTrial frozen_trial_from_json(const nlohmann::json& j);

// Seconds since the epoch (what storages persist) and back.
double to_seconds(Clock::time_point t);
Clock::time_point from_seconds(double s);

}  // namespace nabla::hpo
