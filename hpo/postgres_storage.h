// A storage in a PostgreSQL database, for workers on several machines sharing one study: every
// change is a transaction on the server, and the server's clock times the heartbeats.
#pragma once

#include <memory>
#include <string>

#include "hpo/storage.h"

namespace nabla::hpo {

class PostgresStorage final : public Storage {
 public:
  // `url` is a libpq connection string, "postgresql://user:password@host:port/database" or
  // "host=... port=... dbname=...". Connects once, creating the schema if the database has none:
  // a malformed string is a ValueError, an unreachable server an IOError naming host and port.
  explicit PostgresStorage(const std::string& url);
  ~PostgresStorage() override;

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
  // Fetches only the trials changed since the last call (Note [change counter] in
  // postgres_storage.cpp); the others come from this object's cache.
  std::vector<TrialPtr> trials(int64_t study_id) override;
  void record_heartbeat(int64_t trial_id) override;
  std::vector<TrialPtr> fail_stale_trials(int64_t study_id, double grace_seconds) override;

 private:
  // The connections, the cache and everything libpq: kept out of this header.
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nabla::hpo
