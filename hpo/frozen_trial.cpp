// Names of states and directions, a trial's accessors and its JSON form.
#include "hpo/frozen_trial.h"

#include "core/error.h"

namespace nabla::hpo {

const char* name(Direction d) { return d == Direction::minimize ? "minimize" : "maximize"; }

Direction direction_from_name(const std::string& s) {
  if (s == "minimize") return Direction::minimize;
  if (s == "maximize") return Direction::maximize;
  throw ValueError("hpo: a direction is 'minimize' or 'maximize', got '" + s + "'");
}

const char* name(TrialState s) {
  switch (s) {
    case TrialState::running:
      return "running";
    case TrialState::waiting:
      return "waiting";
    case TrialState::complete:
      return "complete";
    case TrialState::pruned:
      return "pruned";
    case TrialState::failed:
      return "failed";
  }
  return "unknown";
}

TrialState trial_state_from_name(const std::string& s) {
  for (TrialState state : {TrialState::running, TrialState::waiting, TrialState::complete,
                           TrialState::pruned, TrialState::failed})
    if (s == name(state)) return state;
  throw ValueError("hpo: unknown trial state '" + s + "'");
}

double FrozenTrial::value() const {
  NABLA_CHECK(state == TrialState::complete, ValueError, "FrozenTrial::value: trial ", number,
              " is ", name(state), ", not complete");
  NABLA_CHECK(values.size() == 1, ValueError, "FrozenTrial::value: trial ", number, " has ",
              values.size(), " objective values; use values");
  return values[0];
}

std::optional<double> FrozenTrial::internal_value(const std::string& param,
                                                  const Distribution& d) const {
  auto it = params.find(param);
  if (it == params.end()) return std::nullopt;
  return to_internal(d, it->second);
}

std::optional<int64_t> FrozenTrial::last_step() const {
  if (intermediate_values.empty()) return std::nullopt;
  return intermediate_values.rbegin()->first;
}

double to_seconds(Clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

Clock::time_point from_seconds(double s) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)));
}

nlohmann::json to_json(const FrozenTrial& t) {
  nlohmann::json params = nlohmann::json::object(), distributions = nlohmann::json::object();
  for (const auto& [k, v] : t.params) params[k] = to_json(v);
  for (const auto& [k, d] : t.distributions) distributions[k] = to_json(d);
  nlohmann::json intermediate = nlohmann::json::object();
  for (const auto& [step, v] : t.intermediate_values) intermediate[std::to_string(step)] = v;
  nlohmann::json j = {{"number", t.number},
                      {"id", t.id},
                      {"state", name(t.state)},
                      {"values", t.values},
                      {"params", params},
                      {"distributions", distributions},
                      {"intermediate_values", intermediate},
                      {"user_attrs", t.user_attrs},
                      {"system_attrs", t.system_attrs}};
  j["datetime_start"] = t.started ? nlohmann::json(to_seconds(*t.started)) : nlohmann::json();
  j["datetime_complete"] =
      t.completed ? nlohmann::json(to_seconds(*t.completed)) : nlohmann::json();
  return j;
}

FrozenTrial frozen_trial_from_json(const nlohmann::json& j) {
  try {
    FrozenTrial t;
    t.number = j.at("number").get<int64_t>();
    t.id = j.value("id", t.number);
    t.state = trial_state_from_name(j.at("state").get<std::string>());
    t.values = j.value("values", std::vector<double>{});
    const auto empty = nlohmann::json::object();
    const auto distributions = j.value("distributions", empty);
    for (const auto& [k, d] : distributions.items()) t.distributions[k] = distribution_from_json(d);
    const auto params = j.value("params", empty);
    for (const auto& [k, v] : params.items()) t.params[k] = param_value_from_json(v);
    const auto intermediate = j.value("intermediate_values", empty);
    for (const auto& [step, v] : intermediate.items())
      t.intermediate_values[std::stoll(step)] = v.get<std::vector<double>>();
    t.user_attrs = j.value("user_attrs", nlohmann::json::object());
    t.system_attrs = j.value("system_attrs", nlohmann::json::object());
    if (j.contains("datetime_start") && j["datetime_start"].is_number())
      t.started = from_seconds(j["datetime_start"].get<double>());
    if (j.contains("datetime_complete") && j["datetime_complete"].is_number())
      t.completed = from_seconds(j["datetime_complete"].get<double>());
    return t;
  } catch (const nlohmann::json::exception& e) {
    throw ValueError(std::string("hpo: malformed trial record: ") + e.what());
  }
}

}  // namespace nabla::hpo
