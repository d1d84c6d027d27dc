// Studies: creation and loading, the optimize loop (threads, the visible-history window, the
// heartbeat), ask and tell, enqueued trials and the best trials.
#include "hpo/study.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stop_token>
#include <thread>

#include "core/error.h"
#include "hpo/in_memory_storage.h"
#include "hpo/pareto.h"
#include "hpo/samplers/tpe.h"

namespace nabla::hpo {

namespace {

std::string fresh_study_name() {
  std::random_device device;
  std::ostringstream os;
  os << "study-" << std::hex << device() << device();
  return os.str();
}

void complete_defaults(StudyOptions& options) {
  NABLA_CHECK(!options.directions.empty(), ValueError,
              "create_study: needs at least one direction");
  if (!options.storage) options.storage = std::make_shared<InMemoryStorage>();
  if (!options.sampler) options.sampler = std::make_shared<TpeSampler>();
  if (!options.pruner) options.pruner = std::make_shared<NopPruner>();
  NABLA_CHECK(options.heartbeat_interval >= 0, ValueError,
              "create_study: heartbeat_interval must be >= 0, got ", options.heartbeat_interval);
  if (options.heartbeat_interval > 0 && options.grace_period == 0)
    options.grace_period = 2 * options.heartbeat_interval;
  NABLA_CHECK(options.heartbeat_interval == 0 || options.grace_period > options.heartbeat_interval,
              ValueError, "create_study: the grace period (", options.grace_period,
              " s) must exceed the heartbeat interval (", options.heartbeat_interval,
              " s), or live trials would be failed");
  NABLA_CHECK(options.max_retries >= 0, ValueError, "create_study: max_retries must be >= 0");
}

std::shared_ptr<StudyState> make_state(const StudyOptions& options, int64_t id,
                                       std::vector<Direction> directions) {
  auto state = std::make_shared<StudyState>();
  state->storage = options.storage;
  state->id = id;
  state->name = options.name;
  state->directions = std::move(directions);
  state->sampler = options.sampler;
  state->pruner = options.pruner;
  state->heartbeat_interval = options.heartbeat_interval;
  state->grace_period = options.grace_period;
  state->max_retries = options.max_retries;
  return state;
}

bool better(double a, double b, Direction d) { return d == Direction::minimize ? a < b : a > b; }

}  // namespace

Study create_study(StudyOptions options) {
  complete_defaults(options);
  if (options.name.empty()) options.name = fresh_study_name();
  if (auto existing = options.storage->find_study(options.name)) {
    NABLA_CHECK(options.load_if_exists, ValueError, "create_study: a study named '", options.name,
                "' exists already (load it, or pass load_if_exists)");
    StudyInfo info = options.storage->study(*existing);
    NABLA_CHECK(info.directions == options.directions, ValueError, "create_study: study '",
                options.name, "' exists with ", info.directions.size(),
                " objective(s) of other directions");
    return Study(make_state(options, info.id, info.directions));
  }
  const int64_t id = options.storage->create_study(options.name, options.directions);
  return Study(make_state(options, id, options.directions));
}

Study load_study(StudyOptions options) {
  complete_defaults(options);
  NABLA_CHECK(options.storage, ValueError, "load_study: needs a storage");
  auto existing = options.storage->find_study(options.name);
  NABLA_CHECK(existing, ValueError, "load_study: no study named '", options.name, "'");
  StudyInfo info = options.storage->study(*existing);
  return Study(make_state(options, info.id, info.directions));
}

// One optimize() call: its trials in flight and its limits.
struct Study::Run {
  int n_jobs = 1;
  std::optional<int64_t> n_trials;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::mutex mutex;
  std::condition_variable finished;
  int64_t started = 0;
  std::set<int64_t> unfinished;  // numbers of this run's trials not yet told
  std::set<int64_t> mine;        // numbers of all this run's trials
  std::set<int64_t> beating;     // ids of this run's trials the heartbeat keeps alive
  std::exception_ptr error;
};

void Study::fail_stale_trials() {
  if (state_->heartbeat_interval <= 0) return;
  for (const auto& t : state_->storage->fail_stale_trials(state_->id, state_->grace_period)) {
    const int retries = t->system_attrs.value("retry_count", 0);
    if (retries >= state_->max_retries) continue;
    TrialTemplate again{.state = TrialState::waiting, .user_attrs = t->user_attrs};
    nlohmann::json fixed = nlohmann::json::object();
    for (const auto& [param, value] : t->params) fixed[param] = to_json(value);
    again.system_attrs = {
        {"fixed_params", fixed}, {"retried_from", t->number}, {"retry_count", retries + 1}};
    state_->storage->create_trial(state_->id, again);
  }
}

std::optional<Trial> Study::start_trial(Run* run) {
  Storage& storage = *state_->storage;
  std::unique_lock<std::mutex> lock;
  if (run) {
    lock = std::unique_lock(run->mutex);
    if (state_->stop_requested || run->error) return std::nullopt;
    if (run->n_trials && run->started >= *run->n_trials) return std::nullopt;
    if (run->deadline && std::chrono::steady_clock::now() >= *run->deadline) return std::nullopt;
  }
  fail_stale_trials();
  // The trials as they stand before this one, fetched once: for the sampler's exhausted() and,
  // unless this trial has to wait for earlier ones, as its history.
  std::vector<TrialPtr> before;
  TrialPtr created = storage.claim_waiting_trial(state_->id);
  if (!created) {
    // Atomic in the storage: workers of other processes cannot slip a trial in between the
    // sampler's look and the creation, so a finite sampler never gets one trial too many.
    created = storage.create_trial_unless(state_->id, {}, [&](const std::vector<TrialPtr>& now) {
      before = now;
      return state_->sampler->exhausted(before);
    });
    if (!created) {
      state_->stop_requested = true;
      return std::nullopt;
    }
  }
  const int64_t k = created->number;
  int64_t window_start = k;  // this run's trials numbered in [window_start, k) stay hidden
  if (run) {
    ++run->started;
    run->unfinished.insert(k);
    run->mine.insert(k);
    if (state_->heartbeat_interval > 0) run->beating.insert(created->id);
    window_start = k - run->n_jobs + 1;
    auto ready = [&] { return *run->unfinished.begin() >= window_start || run->error; };
    if (!ready()) {
      run->finished.wait(lock, ready);
      before.clear();  // trials it waited for have finished since
    }
  }
  if (before.empty()) before = storage.trials(state_->id);
  std::vector<TrialPtr> history;
  for (auto& t : before) {
    if (t->number >= k || !is_finished(t->state)) continue;
    if (run && t->number >= window_start && run->mine.contains(t->number)) continue;
    history.push_back(std::move(t));
  }
  if (lock) lock.unlock();
  return Trial(state_, created, std::move(history));
}

TrialPtr Study::finish(Trial& trial, TrialState state, const std::vector<double>& values,
                       const std::string& fail_reason) {
  Storage& storage = *state_->storage;
  std::vector<double> kept = values;
  std::string reason = fail_reason;
  if (state == TrialState::complete) {
    if (values.size() != state_->directions.size()) {
      std::ostringstream os;
      os << "the objective returned " << values.size() << " values for a study of "
         << state_->directions.size() << " objectives";
      reason = os.str();
    }
    for (double v : values)
      if (!std::isfinite(v)) reason = "the objective returned " + std::to_string(v);
    if (!reason.empty()) state = TrialState::failed;
  }
  if (is_finished(storage.trial(trial.id())->state)) return nullptr;
  if (state == TrialState::failed) {
    kept.clear();
    storage.set_trial_system_attr(trial.id(), "fail_reason", reason);
  }
  if (!storage.set_trial_state_values(trial.id(), state, kept)) return nullptr;
  TrialPtr done = storage.trial(trial.id());
  const SamplerContext ctx{.history = trial.history_,
                           .trial = *done,
                           .directions = state_->directions,
                           .study_id = state_->id,
                           .storage = storage,
                           .intersection = &trial.space_.space};
  state_->sampler->after_trial(ctx, state);
  return done;
}

Trial Study::ask() { return *start_trial(nullptr); }

TrialPtr Study::tell(Trial& trial, const std::vector<double>& values) {
  return tell(trial, TrialState::complete, values);
}

TrialPtr Study::tell(Trial& trial, TrialState state, const std::vector<double>& values) {
  NABLA_CHECK(is_finished(state), ValueError,
              "Study::tell: a trial is told complete, pruned or "
              "failed, not ",
              hpo::name(state));
  std::vector<double> kept = values;
  if (state == TrialState::pruned && kept.empty() && !trial.frozen_.intermediate_values.empty())
    kept = trial.frozen_.intermediate_values.rbegin()->second;
  TrialPtr done = finish(trial, state, kept, state == TrialState::failed ? "told failed" : "");
  NABLA_CHECK(done, ValueError, "Study::tell: trial ", trial.number(), " is already ",
              hpo::name(storage().trial(trial.id())->state));
  return done;
}

void Study::optimize(const Objective& objective, const OptimizeOptions& options) {
  run([&](Trial& t) { return std::vector<double>{objective(t)}; }, options);
}

void Study::optimize(const MultiObjective& objective, const OptimizeOptions& options) {
  run(objective, options);
}

void Study::run(const MultiObjective& objective, const OptimizeOptions& options) {
  NABLA_CHECK(options.n_jobs >= 1, ValueError, "Study::optimize: n_jobs must be >= 1, got ",
              options.n_jobs);
  NABLA_CHECK(!options.n_trials || *options.n_trials >= 0, ValueError,
              "Study::optimize: n_trials must be >= 0");
  state_->stop_requested = false;
  Run run;
  run.n_jobs = options.n_jobs;
  run.n_trials = options.n_trials;
  if (options.timeout)
    run.deadline = std::chrono::steady_clock::now() +
                   std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::duration<double>(*options.timeout));

  auto trials_loop = [&] {
    while (auto trial = start_trial(&run)) {
      TrialState state = TrialState::complete;
      std::vector<double> values;
      std::string reason;
      try {
        values = objective(*trial);
      } catch (const TrialPruned&) {
        state = TrialState::pruned;
        if (!trial->frozen_.intermediate_values.empty())
          values = trial->frozen_.intermediate_values.rbegin()->second;
      } catch (const std::exception& e) {
        state = TrialState::failed;
        reason = e.what();
        if (!options.catch_errors) {
          std::lock_guard lock(run.mutex);
          if (!run.error) run.error = std::current_exception();
        }
      } catch (...) {
        state = TrialState::failed;
        reason = "an exception not derived from std::exception";
        if (!options.catch_errors) {
          std::lock_guard lock(run.mutex);
          if (!run.error) run.error = std::current_exception();
        }
      }
      // Null when the heartbeat failed the trial first (Note [heartbeat]): nothing to report.
      TrialPtr done = finish(*trial, state, values, reason);
      {
        std::lock_guard lock(run.mutex);
        run.unfinished.erase(trial->number());
        run.beating.erase(trial->id());
      }
      run.finished.notify_all();
      if (done)
        for (const auto& callback : options.callbacks) callback(*this, *done);
    }
  };
  // A storage or callback error ends the run (rethrown below) instead of escaping a thread.
  auto worker = [&] {
    try {
      trials_loop();
    } catch (...) {
      {
        std::lock_guard lock(run.mutex);
        if (!run.error) run.error = std::current_exception();
      }
      run.finished.notify_all();
    }
  };

  std::jthread heartbeat;
  if (state_->heartbeat_interval > 0) {
    heartbeat = std::jthread([&](std::stop_token stop) {
      std::mutex sleep_mutex;
      std::condition_variable_any sleeper;
      const auto interval = std::chrono::duration<double>(state_->heartbeat_interval);
      while (!stop.stop_requested()) {
        std::vector<int64_t> ids;
        {
          std::lock_guard lock(run.mutex);
          ids.assign(run.beating.begin(), run.beating.end());
        }
        for (int64_t id : ids) {
          try {
            state_->storage->record_heartbeat(id);
          } catch (const std::exception&) {
            // A missed beat is retried at the next interval; the grace period allows for it.
          }
        }
        std::unique_lock lock(sleep_mutex);
        sleeper.wait_for(lock, stop, interval, [] { return false; });
      }
    });
  }
  {
    std::vector<std::jthread> workers;
    for (int j = 1; j < options.n_jobs; ++j) workers.emplace_back(worker);
    worker();
  }
  if (heartbeat.joinable()) {
    heartbeat.request_stop();
    heartbeat.join();
  }
  if (run.error) std::rethrow_exception(run.error);
}

void Study::enqueue_trial(const std::map<std::string, ParamValue>& params,
                          const nlohmann::json& user_attrs) {
  nlohmann::json fixed = nlohmann::json::object();
  for (const auto& [param, value] : params) fixed[param] = to_json(value);
  state_->storage->create_trial(state_->id, {.state = TrialState::waiting,
                                             .user_attrs = user_attrs,
                                             .system_attrs = {{"fixed_params", fixed}}});
}

std::vector<TrialPtr> Study::trials() const { return state_->storage->trials(state_->id); }

TrialPtr Study::best_trial() const {
  NABLA_CHECK(state_->directions.size() == 1, ValueError, "Study::best_trial: study '",
              state_->name, "' has ", state_->directions.size(),
              " objectives; use best_trials for the Pareto front");
  TrialPtr best;
  for (const auto& t : trials())
    if (t->state == TrialState::complete &&
        (!best || better(t->values[0], best->values[0], state_->directions[0])))
      best = t;
  NABLA_CHECK(best, ValueError, "Study::best_trial: study '", state_->name,
              "' has no complete trial yet");
  return best;
}

std::vector<TrialPtr> Study::best_trials() const {
  std::vector<TrialPtr> complete;
  std::vector<std::vector<double>> points;
  for (const auto& t : trials()) {
    if (t->state != TrialState::complete) continue;
    complete.push_back(t);
    points.push_back(t->values);
  }
  std::vector<TrialPtr> front;
  if (complete.empty()) return front;
  const auto fronts = non_dominated_sort(points, state_->directions);
  for (size_t i : fronts.front()) front.push_back(complete[i]);
  return front;
}

void Study::set_user_attr(const std::string& key, const nlohmann::json& value) {
  state_->storage->set_study_user_attr(state_->id, key, value);
}

nlohmann::json Study::user_attrs() const { return state_->storage->study(state_->id).user_attrs; }

}  // namespace nabla::hpo
