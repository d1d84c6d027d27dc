// Running a trial's command: argument substitution, the child process, the line protocol and
// pruning.
#include "command_objective.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/error.h"

extern char** environ;

namespace nabla::hpo_cli {

namespace {

// "{lr}" -> the value of lr, "{trial}" -> the number, "{params}" -> every parameter as JSON.
std::string substitute(std::string arg, const std::map<std::string, hpo::ParamValue>& params,
                       int64_t number, const std::string& params_json) {
  auto replace_all = [&](const std::string& key, const std::string& value) {
    for (size_t at = arg.find(key); at != std::string::npos; at = arg.find(key, at + value.size()))
      arg.replace(at, key.size(), value);
  };
  replace_all("{trial}", std::to_string(number));
  replace_all("{params}", params_json);
  for (const auto& [name, value] : params) replace_all("{" + name + "}", hpo::to_string(value));
  return arg;
}

class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env) {
    int fds[2];
    NABLA_CHECK(pipe(fds) == 0, IOError, "nabla-hpo worker: pipe failed: ", std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    std::vector<std::string> env = extra_env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    std::vector<char*> arg_pointers, env_pointers;
    for (const auto& a : argv) arg_pointers.push_back(const_cast<char*>(a.c_str()));
    for (const auto& e : env) env_pointers.push_back(const_cast<char*>(e.c_str()));
    arg_pointers.push_back(nullptr);
    env_pointers.push_back(nullptr);
    const int error = posix_spawnp(&pid_, arg_pointers[0], &actions, nullptr, arg_pointers.data(),
                                   env_pointers.data());
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (error != 0) {
      close(fds[0]);
      throw IOError("nabla-hpo worker: cannot run '" + argv[0] + "': " + std::strerror(error));
    }
    out_ = fds[0];
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (out_ >= 0) close(out_);
    if (pid_ > 0) stop();
  }

  // The next line of its output, or false at the end.
  bool read_line(std::string& line) {
    for (;;) {
      if (auto at = buffer_.find('\n'); at != std::string::npos) {
        line = buffer_.substr(0, at);
        buffer_.erase(0, at + 1);
        return true;
      }
      char chunk[4096];
      const ssize_t n = read(out_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (buffer_.empty()) return false;
        line = std::move(buffer_);
        buffer_.clear();
        return true;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  int wait() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

  // SIGTERM, then SIGKILL if it has not gone after a grace period.
  void stop() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid_, SIGKILL);
    wait();
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
};

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended abnormally";
}

}  // namespace

std::vector<double> parse_values(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  std::vector<double> values;
  std::string token;
  while (in >> token) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(token, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    NABLA_CHECK(used == token.size(), ValueError, "nabla-hpo worker: '", token,
                "' is not a number in the line '", line, "'");
    values.push_back(v);
  }
  NABLA_CHECK(!values.empty(), ValueError, "nabla-hpo worker: no value in the line '", line, "'");
  return values;
}

std::vector<double> CommandObjective::operator()(hpo::Trial& trial) const {
  const auto params = hpo::suggest_all(trial, space);
  nlohmann::json params_json = nlohmann::json::object();
  for (const auto& [name, value] : params) params_json[name] = hpo::to_json(value);
  const std::string params_text = params_json.dump();
  std::vector<std::string> argv;
  for (const auto& arg : command)
    argv.push_back(substitute(arg, params, trial.number(), params_text));

  Child child(
      argv, {"NABLA_HPO_PARAMS=" + params_text, "NABLA_HPO_TRIAL=" + std::to_string(trial.number()),
             "NABLA_HPO_STUDY=" + study_name});
  const std::string report = "nabla-hpo report ", final_value = "nabla-hpo value ";
  std::optional<std::vector<double>> values;
  std::string line, last_other;
  while (child.read_line(line)) {
    if (line.starts_with(report)) {
      std::istringstream in(line.substr(report.size()));
      int64_t step = -1;
      in >> step;
      NABLA_CHECK(in && step >= 0, ValueError, "nabla-hpo worker: the line '", line,
                  "' needs a step >= 0 after 'report'");
      std::string rest;
      std::getline(in, rest);
      trial.report(step, parse_values(rest, line));
      if (trial.should_prune()) {
        child.stop();
        throw hpo::TrialPruned("pruned at step " + std::to_string(step));
      }
    } else if (line.starts_with(final_value)) {
      values = parse_values(line.substr(final_value.size()), line);
    } else {
      last_other = line;
      if (echo) std::cout << "[trial " << trial.number() << "] " << line << '\n';
    }
  }
  const int status = child.wait();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("the command " + describe_status(status) +
                             (last_other.empty() ? "" : "; its last line: " + last_other));
  if (!values)
    throw std::runtime_error("the command printed no 'nabla-hpo value' line" +
                             (last_other.empty() ? "" : "; its last line: " + last_other));
  return *values;
}

}  // namespace nabla::hpo_cli
