// A storage in this process's memory: the fastest, and gone when the process ends.
#pragma once

#include <chrono>
#include <mutex>
#include <unordered_map>

#include "hpo/storage.h"

namespace nabla::hpo {

class InMemoryStorage final : public Storage {
 public:
  int64_t create_study(const std::string& name, const std::vector<Direction>& directions) override;
  std::optional<int64_t> find_study(const std::string& name) override;
  StudyInfo study(int64_t study_id) override;
  std::vector<StudyInfo> studies() override;
  void set_study_user_attr(int64_t study_id, const std::string& key,
                           const nlohmann::json& value) override;
  void set_study_system_attr(int64_t study_id, const std::string& key,
                             const nlohmann::json& value) override;

  TrialPtr create_trial(int64_t study_id, const TrialTemplate& t) override;
  TrialPtr create_trial_unless(int64_t study_id, const TrialTemplate& t,
                               const StopCheck& stop) override;
  TrialPtr claim_waiting_trial(int64_t study_id) override;
  void set_trial_param(int64_t trial_id, const std::string& name, const ParamValue& value,
                       const Distribution& d) override;
  void set_trial_intermediate_value(int64_t trial_id, int64_t step,
                                    const std::vector<double>& values) override;
  void set_trial_user_attr(int64_t trial_id, const std::string& key,
                           const nlohmann::json& value) override;
  void set_trial_system_attr(int64_t trial_id, const std::string& key,
                             const nlohmann::json& value) override;
  bool set_trial_state_values(int64_t trial_id, TrialState state,
                              const std::vector<double>& values) override;
  TrialPtr trial(int64_t trial_id) override;
  std::vector<TrialPtr> trials(int64_t study_id) override;
  void record_heartbeat(int64_t trial_id) override;
  std::vector<TrialPtr> fail_stale_trials(int64_t study_id, double grace_seconds) override;

 private:
  struct StudyRecord {
    StudyInfo info;
    std::vector<TrialPtr> trials;  // by number
  };
  struct TrialSlot {
    int64_t study_id;
    int64_t number;
    std::chrono::steady_clock::time_point heartbeat;
  };

  StudyRecord& study_locked(int64_t study_id);
  // Copy-on-write: the trial is replaced by an edited copy, so pointers handed out stay frozen.
  TrialPtr& trial_locked(int64_t trial_id, const char* what);
  template <class Edit>
  void edit_trial(int64_t trial_id, const char* what, Edit edit);

  std::mutex mutex_;
  std::vector<StudyRecord> studies_;    // by id
  std::vector<TrialSlot> trial_slots_;  // by trial id
};

}  // namespace nabla::hpo
