// A study: an optimization over trials, kept in a storage, sampled by a sampler and cut short by
// a pruner; `optimize` runs an objective over many trials, on several threads if asked.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hpo/pruner.h"
#include "hpo/sampler.h"
#include "hpo/storage.h"
#include "hpo/trial.h"

namespace nabla::hpo {

struct StudyOptions {
  std::string name{};                  // empty: a fresh unique name
  std::shared_ptr<Storage> storage{};  // null: in memory
  std::vector<Direction> directions = {Direction::minimize};
  std::shared_ptr<Sampler> sampler{};  // null: TpeSampler, default options, fresh seed
  std::shared_ptr<Pruner> pruner{};    // null: never prune
  bool load_if_exists = false;
  // Note [heartbeat] in storage.h. 0 turns it off; the grace period defaults to twice the
  // interval and must exceed it.
  double heartbeat_interval = 0;
  double grace_period = 0;
  // A trial failed by the heartbeat is enqueued again, with its parameters, up to this many times.
  int max_retries = 0;
};

class Study;
using Callback = std::function<void(Study&, const FrozenTrial&)>;

struct OptimizeOptions {
  std::optional<int64_t> n_trials{};  // trials this call runs; none: until timeout or stop()
  std::optional<double> timeout{};    // seconds; no new trial starts after it
  int n_jobs = 1;                     // threads in this process
  // An exception from the objective fails its trial and the study goes on; false rethrows it
  // (after recording the failure) once the running trials have finished.
  bool catch_errors = true;
  std::vector<Callback> callbacks{};  // after each finished trial
};

struct StudyState {
  std::shared_ptr<Storage> storage;
  int64_t id = -1;
  std::string name;
  std::vector<Direction> directions;
  std::shared_ptr<Sampler> sampler;
  std::shared_ptr<Pruner> pruner;
  double heartbeat_interval = 0, grace_period = 0;
  int max_retries = 0;
  std::atomic<bool> stop_requested{false};
  IncrementalSearchSpace search_space;  // over the trials' histories
};

class Study {
 public:
  using Objective = std::function<double(Trial&)>;
  using MultiObjective = std::function<std::vector<double>(Trial&)>;

  void optimize(const Objective& objective, const OptimizeOptions& options = {});
  void optimize(const MultiObjective& objective, const OptimizeOptions& options = {});

  // Ask-and-tell, for loops the study does not drive (the nabla-hpo worker).
  Trial ask();
  // A ValueError for a trial already finished.
  TrialPtr tell(Trial& trial, const std::vector<double>& values);
  TrialPtr tell(Trial& trial, TrialState state, const std::vector<double>& values = {});

  // The next trials run these parameters first (remaining ones are sampled).
  void enqueue_trial(const std::map<std::string, ParamValue>& params,
                     const nlohmann::json& user_attrs = nlohmann::json::object());
  // Ends optimize() once the running trials finish.
  void stop() { state_->stop_requested = true; }

  std::vector<TrialPtr> trials() const;
  // Single objective: the best complete trial (a ValueError if none, or if multi-objective).
  TrialPtr best_trial() const;
  double best_value() const { return best_trial()->value(); }
  const std::map<std::string, ParamValue>& best_params() const { return best_trial()->params; }
  // The Pareto front of the complete trials (for one objective, the best trials, ties included).
  std::vector<TrialPtr> best_trials() const;

  void set_user_attr(const std::string& key, const nlohmann::json& value);
  nlohmann::json user_attrs() const;

  int64_t id() const { return state_->id; }
  const std::string& name() const { return state_->name; }
  const std::vector<Direction>& directions() const { return state_->directions; }
  Storage& storage() const { return *state_->storage; }
  Sampler& sampler() const { return *state_->sampler; }
  Pruner& pruner() const { return *state_->pruner; }

 private:
  friend Study create_study(StudyOptions options);
  friend Study load_study(StudyOptions options);
  struct Run;
  explicit Study(std::shared_ptr<StudyState> state) : state_(std::move(state)) {}

  void run(const MultiObjective& objective, const OptimizeOptions& options);
  std::optional<Trial> start_trial(Run* run);
  // Null when the trial had already finished.
  TrialPtr finish(Trial& trial, TrialState state, const std::vector<double>& values,
                  const std::string& fail_reason);
  void fail_stale_trials();

  std::shared_ptr<StudyState> state_;
};

// With load_if_exists, an existing study of that name is loaded (its directions must match).
Study create_study(StudyOptions options);
// A ValueError if no study of that name exists.
Study load_study(StudyOptions options);

}  // namespace nabla::hpo
