// The worker processes of the multi-process tests: a hpo_test_worker (hpo_worker_main.cpp) started
// with its arguments, watched, waited for or killed, whatever storage it works on; and the checks
// of a study such workers shared.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hpo/frozen_trial.h"
#include "scratch_dir.h"
#include "storage_conformance.h"

extern char** environ;

namespace nabla::hpo::testing {

// A hpo_test_worker process with its output in a log file; killed, if still running, when the
// object goes (a failed check must not leave it behind).
class Worker {
 public:
  explicit Worker(const std::vector<std::string>& args) : log_(logs().file("worker", ".log")) {
    std::vector<std::string> all = {NABLA_HPO_TEST_WORKER};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
  }
  ~Worker() {
    if (running()) kill();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  pid_t pid() const { return pid_; }

  bool running() {
    if (exited_) return false;
    if (waitpid(pid_, &status_, WNOHANG) == 0) return true;
    exited_ = true;
    return false;
  }

  // The exit status; -1 if it did not exit normally.
  int wait() {
    if (!exited_) waitpid(pid_, &status_, 0);
    exited_ = true;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }

  void kill() {
    ::kill(pid_, SIGKILL);
    wait();
  }

  std::string log() const {
    std::ifstream in(log_);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
  }

 private:
  static nabla::testing::ScratchDir& logs() {
    static nabla::testing::ScratchDir dir(nabla::testing::ScratchDir::Place::memory);
    return dir;
  }

  std::string log_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

inline std::vector<std::string> operator+(std::vector<std::string> a,
                                          const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The process that ran the trial, as the worker records it.
inline int64_t pid_of(const TrialPtr& t) { return t->user_attrs.at("pid").get<int64_t>(); }

// A study that several workers shared: numbers 0, 1, ... each once, every trial complete, no id
// twice, and each worker's share as `per_pid` says.
inline void check_shared_study(const std::vector<TrialPtr>& trials,
                               const std::map<int64_t, int>& per_pid) {
  std::map<int64_t, int> counted;
  std::set<int64_t> ids;
  for (size_t k = 0; k < trials.size(); ++k) {
    CHECK(trials[k]->number == static_cast<int64_t>(k));
    CHECK(trials[k]->state == TrialState::complete);
    ids.insert(trials[k]->id);
    ++counted[pid_of(trials[k])];
  }
  CHECK(ids.size() == trials.size());
  CHECK(counted == per_pid);
}

// Three hpo_test_workers (4 jobs each, 1 ms trials) that run the grid study `study` of `storage`
// to its end; each must exit 0.
inline void run_grid_workers(const std::string& storage, const std::string& study) {
  const std::vector<std::string> args = {"--storage", storage, "--study",   study,
                                         "--n-jobs",  "4",     "--sleep",   "0.001",
                                         "--seed",    "4",     "--sampler", "grid"};
  Worker a(args), b(args), c(args);
  INFO(a.log());
  INFO(b.log());
  INFO(c.log());
  CHECK(a.wait() == 0);
  CHECK(b.wait() == 0);
  CHECK(c.wait() == 0);
}

// A grid study (hpo_test_worker --sampler grid) that several workers shared: its 12 points each
// taken by one complete trial, and not one trial more.
inline void check_grid_study(const std::vector<TrialPtr>& trials) {
  CHECK(trials.size() == 12);
  std::set<int64_t> points;
  std::set<std::string> params;
  for (const auto& t : trials) {
    CHECK(t->state == TrialState::complete);
    REQUIRE(t->system_attrs.contains("grid_id"));
    points.insert(t->system_attrs.at("grid_id").get<int64_t>());
    params.insert(to_json(*t).at("params").dump());
  }
  CHECK(points.size() == 12);
  CHECK(params.size() == 12);
}

// A study resumed after its worker was killed at trial 4 with 4 finished (`finished`, as
// conformance::json_of gives them): those unchanged, trial 4 failed by the heartbeat with a reason
// starting `fail_reason`, trial 5 its retry in the worker `resumer`, and 8 trials complete in all.
inline void check_resumed_study(const std::vector<TrialPtr>& trials,
                                const std::vector<std::string>& finished,
                                const std::string& fail_reason, int64_t resumer) {
  REQUIRE(trials.size() == 9);
  CHECK(conformance::json_of(std::vector<TrialPtr>(trials.begin(), trials.begin() + 4)) ==
        finished);
  CHECK(trials[4]->state == TrialState::failed);
  CHECK(trials[4]->system_attrs.at("fail_reason").get<std::string>().starts_with(fail_reason));
  CHECK(trials[5]->system_attrs.at("retried_from") == 4);
  CHECK(trials[5]->params == trials[4]->params);
  CHECK(pid_of(trials[5]) == resumer);
  int64_t complete = 0;
  for (size_t k = 0; k < trials.size(); ++k) {
    CHECK(trials[k]->number == static_cast<int64_t>(k));
    complete += trials[k]->state == TrialState::complete;
  }
  CHECK(complete == 8);
}

}  // namespace nabla::hpo::testing
