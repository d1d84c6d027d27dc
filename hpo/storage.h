// Where a study and its trials live. Every method is safe to call from several threads at once,
// and, for the database storages, from several processes sharing one study.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hpo/frozen_trial.h"

namespace nabla::hpo {

struct StudyInfo {
  int64_t id = -1;
  std::string name;
  std::vector<Direction> directions;
  nlohmann::json user_attrs = nlohmann::json::object();
  nlohmann::json system_attrs = nlohmann::json::object();
};

// What a new trial starts with: enqueued trials are `waiting`, with their fixed parameters in
// system_attrs["fixed_params"].
struct TrialTemplate {
  TrialState state = TrialState::running;
  nlohmann::json user_attrs = nlohmann::json::object();
  nlohmann::json system_attrs = nlohmann::json::object();
};

// Shown a study's trials in number order; true when the study needs no more.
using StopCheck = std::function<bool(const std::vector<TrialPtr>& trials)>;

class Storage {
 public:
  virtual ~Storage() = default;

  // A ValueError if a study of that name exists.
  virtual int64_t create_study(const std::string& name,
                               const std::vector<Direction>& directions) = 0;
  virtual std::optional<int64_t> find_study(const std::string& name) = 0;
  virtual StudyInfo study(int64_t study_id) = 0;
  virtual std::vector<StudyInfo> studies() = 0;
  virtual void set_study_user_attr(int64_t study_id, const std::string& key,
                                   const nlohmann::json& value) = 0;
  virtual void set_study_system_attr(int64_t study_id, const std::string& key,
                                     const nlohmann::json& value) = 0;

  // Gives the trial the next number of its study; running trials start their heartbeat clock.
  virtual TrialPtr create_trial(int64_t study_id, const TrialTemplate& t) = 0;
  // create_trial, unless `stop`, shown the study's trials as they stand, says the study is done
  // (then nullptr): looking and creating are one atomic step, across processes too, so that no
  // other trial is created between them. `stop` runs under the storage's lock and must not call
  // the storage.
  virtual TrialPtr create_trial_unless(int64_t study_id, const TrialTemplate& t,
                                       const StopCheck& stop) = 0;
  // Turns the oldest waiting trial of the study into a running one, atomically: two workers never
  // claim the same trial.
  virtual TrialPtr claim_waiting_trial(int64_t study_id) = 0;

  // The setters below refuse (ValueError) to change a finished trial.
  virtual void set_trial_param(int64_t trial_id, const std::string& name, const ParamValue& value,
                               const Distribution& d) = 0;
  virtual void set_trial_intermediate_value(int64_t trial_id, int64_t step,
                                            const std::vector<double>& values) = 0;
  virtual void set_trial_user_attr(int64_t trial_id, const std::string& key,
                                   const nlohmann::json& value) = 0;
  virtual void set_trial_system_attr(int64_t trial_id, const std::string& key,
                                     const nlohmann::json& value) = 0;
  // Finishes the trial (or, for `running`, puts a waiting one to work); values are kept for
  // complete trials and for pruned ones (their last report). Returns false, changing
  // nothing, when the trial had already finished: the heartbeat may have failed it.
  virtual bool set_trial_state_values(int64_t trial_id, TrialState state,
                                      const std::vector<double>& values) = 0;

  virtual TrialPtr trial(int64_t trial_id) = 0;
  // Every trial of the study in number order.
  virtual std::vector<TrialPtr> trials(int64_t study_id) = 0;

  // Note [heartbeat]: a running trial's worker beats every interval; a running trial whose last
  // beat (by the storage's own clock, so workers' clocks never mix) is older than the grace period
  // is failed, atomically, by whichever worker looks first. Returns the trials this call failed.
  virtual void record_heartbeat(int64_t trial_id) = 0;
  virtual std::vector<TrialPtr> fail_stale_trials(int64_t study_id, double grace_seconds) = 0;
};

}  // namespace nabla::hpo
