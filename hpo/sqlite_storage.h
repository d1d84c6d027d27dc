// A storage in one SQLite file: it survives crashes, and several threads and processes may share
// it (the default for anything long-running).
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>

#include "hpo/storage.h"

namespace nabla::hpo {

struct SqliteStorageOptions {
  // How long one call keeps retrying while other connections hold the database's lock, before it
  // gives up with an IOError.
  double lock_timeout = 60;
};

// Note [sqlite storage]: one connection per object, its calls serialized by a mutex; every change
// is one transaction (writes take the lock up front with BEGIN IMMEDIATE), committed with a full
// sync of the write-ahead log, so a finished trial survives a crash of the process or the machine.
// A busy database is waited for (SQLite's busy timeout, then retries with exponential backoff and
// jitter) up to `lock_timeout`. trials() reads only what changed since its last call (Note
// [change counter] in sqlite_storage.cpp). The processes sharing a file must run on one machine
// with the file on a local disk: WAL's shared-memory index does not work over a network file
// system.
class SqliteStorage final : public Storage {
 public:
  // Creates the file and its tables if missing. An IOError if the file cannot be opened or is not
  // an SQLite database; a ValueError if it is a database of another schema.
  explicit SqliteStorage(const std::string& path, SqliteStorageOptions options = {});
  ~SqliteStorage() override;
  SqliteStorage(const SqliteStorage&) = delete;
  SqliteStorage& operator=(const SqliteStorage&) = delete;

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
  class Connection;  // the sqlite3 handle, its statements and the retry loop (sqlite_storage.cpp)

  struct StudyCache {
    int64_t seq = -1;              // the study's change counter when `trials` was read
    std::vector<TrialPtr> trials;  // by number
  };

  void set_trial_attr(int64_t trial_id, const char* kind, const std::string& key,
                      const nlohmann::json& value, const char* what);
  void set_study_attr(int64_t study_id, const char* kind, const std::string& key,
                      const nlohmann::json& value, const char* what);
  // Inside a transaction, with mutex_ held: the study's cached trials, brought up to date with
  // what changed since they were read.
  const std::vector<TrialPtr>& refresh_locked(int64_t study_id, const char* what);
  // Keeps finished trials, which never change, so that trial() need not read them again.
  void remember(const TrialPtr& t);

  std::mutex mutex_;
  std::unique_ptr<Connection> db_;
  std::unordered_map<int64_t, StudyCache> caches_;  // by study id
  std::unordered_map<int64_t, TrialPtr> finished_;  // by trial id
};

}  // namespace nabla::hpo
