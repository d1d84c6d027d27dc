// The in-memory storage: one mutex over vectors of studies and copy-on-write trials.
#include "hpo/in_memory_storage.h"

#include "core/error.h"

namespace nabla::hpo {

InMemoryStorage::StudyRecord& InMemoryStorage::study_locked(int64_t study_id) {
  NABLA_CHECK(study_id >= 0 && study_id < static_cast<int64_t>(studies_.size()), ValueError,
              "InMemoryStorage: no study with id ", study_id);
  return studies_[static_cast<size_t>(study_id)];
}

TrialPtr& InMemoryStorage::trial_locked(int64_t trial_id, const char* what) {
  NABLA_CHECK(trial_id >= 0 && trial_id < static_cast<int64_t>(trial_slots_.size()), ValueError,
              "InMemoryStorage::", what, ": no trial with id ", trial_id);
  const TrialSlot& slot = trial_slots_[static_cast<size_t>(trial_id)];
  return study_locked(slot.study_id).trials[static_cast<size_t>(slot.number)];
}

template <class Edit>
void InMemoryStorage::edit_trial(int64_t trial_id, const char* what, Edit edit) {
  std::lock_guard lock(mutex_);
  TrialPtr& trial = trial_locked(trial_id, what);
  NABLA_CHECK(!is_finished(trial->state), ValueError, "InMemoryStorage::", what, ": trial ",
              trial->number, " is already ", name(trial->state));
  auto copy = std::make_shared<FrozenTrial>(*trial);
  edit(*copy);
  trial = std::move(copy);
}

int64_t InMemoryStorage::create_study(const std::string& name,
                                      const std::vector<Direction>& directions) {
  std::lock_guard lock(mutex_);
  for (const auto& s : studies_)
    NABLA_CHECK(s.info.name != name, ValueError, "create_study: a study named '", name,
                "' exists already (load it, or pass load_if_exists)");
  StudyRecord record;
  record.info.id = static_cast<int64_t>(studies_.size());
  record.info.name = name;
  record.info.directions = directions;
  studies_.push_back(std::move(record));
  return studies_.back().info.id;
}

std::optional<int64_t> InMemoryStorage::find_study(const std::string& name) {
  std::lock_guard lock(mutex_);
  for (const auto& s : studies_)
    if (s.info.name == name) return s.info.id;
  return std::nullopt;
}

StudyInfo InMemoryStorage::study(int64_t study_id) {
  std::lock_guard lock(mutex_);
  return study_locked(study_id).info;
}

std::vector<StudyInfo> InMemoryStorage::studies() {
  std::lock_guard lock(mutex_);
  std::vector<StudyInfo> out;
  for (const auto& s : studies_) out.push_back(s.info);
  return out;
}

void InMemoryStorage::set_study_user_attr(int64_t study_id, const std::string& key,
                                          const nlohmann::json& value) {
  std::lock_guard lock(mutex_);
  study_locked(study_id).info.user_attrs[key] = value;
}

void InMemoryStorage::set_study_system_attr(int64_t study_id, const std::string& key,
                                            const nlohmann::json& value) {
  std::lock_guard lock(mutex_);
  study_locked(study_id).info.system_attrs[key] = value;
}

TrialPtr InMemoryStorage::create_trial(int64_t study_id, const TrialTemplate& t) {
  return create_trial_unless(study_id, t, {});
}

TrialPtr InMemoryStorage::create_trial_unless(int64_t study_id, const TrialTemplate& t,
                                              const StopCheck& stop) {
  NABLA_CHECK(t.state == TrialState::running || t.state == TrialState::waiting, ValueError,
              "InMemoryStorage::create_trial: a new trial is running or waiting, not ",
              name(t.state));
  std::lock_guard lock(mutex_);
  auto& study = study_locked(study_id);
  if (stop && stop(study.trials)) return nullptr;
  auto trial = std::make_shared<FrozenTrial>();
  trial->id = static_cast<int64_t>(trial_slots_.size());
  trial->number = static_cast<int64_t>(study.trials.size());
  trial->state = t.state;
  trial->user_attrs = t.user_attrs;
  trial->system_attrs = t.system_attrs;
  if (t.state == TrialState::running) trial->started = Clock::now();
  trial_slots_.push_back({study_id, trial->number, std::chrono::steady_clock::now()});
  study.trials.push_back(trial);
  return trial;
}

TrialPtr InMemoryStorage::claim_waiting_trial(int64_t study_id) {
  std::lock_guard lock(mutex_);
  for (auto& t : study_locked(study_id).trials) {
    if (t->state != TrialState::waiting) continue;
    auto copy = std::make_shared<FrozenTrial>(*t);
    copy->state = TrialState::running;
    copy->started = Clock::now();
    trial_slots_[static_cast<size_t>(copy->id)].heartbeat = std::chrono::steady_clock::now();
    t = copy;
    return copy;
  }
  return nullptr;
}

void InMemoryStorage::set_trial_param(int64_t trial_id, const std::string& param,
                                      const ParamValue& value, const Distribution& d) {
  edit_trial(trial_id, "set_trial_param", [&](FrozenTrial& t) {
    t.params[param] = value;
    t.distributions[param] = d;
  });
}

void InMemoryStorage::set_trial_intermediate_value(int64_t trial_id, int64_t step,
                                                   const std::vector<double>& values) {
  edit_trial(trial_id, "set_trial_intermediate_value",
             [&](FrozenTrial& t) { t.intermediate_values[step] = values; });
}

void InMemoryStorage::set_trial_user_attr(int64_t trial_id, const std::string& key,
                                          const nlohmann::json& value) {
  edit_trial(trial_id, "set_trial_user_attr", [&](FrozenTrial& t) { t.user_attrs[key] = value; });
}

void InMemoryStorage::set_trial_system_attr(int64_t trial_id, const std::string& key,
                                            const nlohmann::json& value) {
  edit_trial(trial_id, "set_trial_system_attr",
             [&](FrozenTrial& t) { t.system_attrs[key] = value; });
}

bool InMemoryStorage::set_trial_state_values(int64_t trial_id, TrialState state,
                                             const std::vector<double>& values) {
  std::lock_guard lock(mutex_);
  TrialPtr& trial = trial_locked(trial_id, "set_trial_state_values");
  if (is_finished(trial->state)) return false;
  auto copy = std::make_shared<FrozenTrial>(*trial);
  copy->state = state;
  if (state == TrialState::complete || state == TrialState::pruned) copy->values = values;
  if (is_finished(state)) copy->completed = Clock::now();
  if (state == TrialState::running && !copy->started) copy->started = Clock::now();
  trial = std::move(copy);
  return true;
}

TrialPtr InMemoryStorage::trial(int64_t trial_id) {
  std::lock_guard lock(mutex_);
  return trial_locked(trial_id, "trial");
}

std::vector<TrialPtr> InMemoryStorage::trials(int64_t study_id) {
  std::lock_guard lock(mutex_);
  return study_locked(study_id).trials;
}

void InMemoryStorage::record_heartbeat(int64_t trial_id) {
  std::lock_guard lock(mutex_);
  trial_locked(trial_id, "record_heartbeat");
  trial_slots_[static_cast<size_t>(trial_id)].heartbeat = std::chrono::steady_clock::now();
}

std::vector<TrialPtr> InMemoryStorage::fail_stale_trials(int64_t study_id, double grace_seconds) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  std::vector<TrialPtr> failed;
  for (auto& t : study_locked(study_id).trials) {
    if (t->state != TrialState::running) continue;
    const auto beat = trial_slots_[static_cast<size_t>(t->id)].heartbeat;
    if (std::chrono::duration<double>(now - beat).count() <= grace_seconds) continue;
    auto copy = std::make_shared<FrozenTrial>(*t);
    copy->state = TrialState::failed;
    copy->completed = Clock::now();
    copy->system_attrs["fail_reason"] =
        "no heartbeat for more than " + std::to_string(grace_seconds) + " s";
    t = copy;
    failed.push_back(copy);
  }
  return failed;
}

}  // namespace nabla::hpo
