// The worker processes of the multi-process tests: a hpo_test_worker (hpo_worker_main.cpp) started
// with its arguments, watched, waited for or killed, whatever storage it works on.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "hpo/frozen_trial.h"
#include "scratch_dir.h"

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

}  // namespace nabla::hpo::testing
