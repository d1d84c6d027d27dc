// hpo_test_worker: one worker process of the multi-process storage tests. It loads a study from a
// storage URL and runs trials on it, as a worker of a shared study would:
//   hpo_test_worker --storage URL --study NAME [--trials N] [--until N] [--n-jobs J] [--seed S]
//                   [--sleep SECONDS] [--hang-at NUMBER] [--heartbeat SECONDS] [--grace SECONDS]
//                   [--max-retries R] [--sampler random|grid] [--dump FILE]
// --trials: trials this process runs; --until: stop once the study has N complete trials;
// --hang-at: the trial of that number sleeps (for a test to kill the process mid-trial); --dump:
// every trial of the study as JSON once done; --sampler grid: the 12 points of x in {-1, 0, 1},
// n in {0, 5}, c in {a, b}, in the order of --seed. Exit status 0 on success, 1 with a message on
// error.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include "hpo/hpo.h"

using namespace nabla::hpo;

namespace {

std::map<std::string, std::string> parse_args(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; i += 2) {
    const std::string key = argv[i];
    if (!key.starts_with("--") || i + 1 >= argc)
      throw std::runtime_error("expected --option value pairs, got '" + key + "'");
    args[key.substr(2)] = argv[i + 1];
  }
  for (const char* required : {"storage", "study"})
    if (!args.contains(required))
      throw std::runtime_error(std::string("--") + required + " is required");
  return args;
}

double number(const std::map<std::string, std::string>& args, const std::string& key,
              double fallback) {
  auto it = args.find(key);
  return it == args.end() ? fallback : std::stod(it->second);
}

int64_t complete_trials(const Study& study) {
  int64_t n = 0;
  for (const auto& t : study.trials()) n += t->state == TrialState::complete;
  return n;
}

std::shared_ptr<Sampler> sampler(const std::map<std::string, std::string>& args) {
  const auto seed = static_cast<uint64_t>(number(args, "seed", 0));
  const auto it = args.find("sampler");
  if (it == args.end() || it->second == "random") return std::make_shared<RandomSampler>(seed);
  if (it->second != "grid") throw std::runtime_error("unknown --sampler '" + it->second + "'");
  return std::make_shared<GridSampler>(
      std::map<std::string, std::vector<ParamValue>>{{"x", {-1.0, 0.0, 1.0}},
                                                     {"n", {int64_t{0}, int64_t{5}}},
                                                     {"c", {std::string("a"), std::string("b")}}},
      seed);
}

int run(int argc, char** argv) {
  const auto args = parse_args(argc, argv);
  Study study = load_study({
      .name = args.at("study"),
      .storage = open_storage(args.at("storage")),
      .sampler = sampler(args),
      .heartbeat_interval = number(args, "heartbeat", 0),
      .grace_period = number(args, "grace", 0),
      .max_retries = static_cast<int>(number(args, "max-retries", 0)),
  });
  const double sleep = number(args, "sleep", 0);
  const auto hang_at = static_cast<int64_t>(number(args, "hang-at", -1));
  const auto until = static_cast<int64_t>(number(args, "until", -1));

  OptimizeOptions options{.n_jobs = static_cast<int>(number(args, "n-jobs", 1))};
  if (args.contains("trials")) options.n_trials = static_cast<int64_t>(number(args, "trials", 0));
  if (until >= 0) {
    options.callbacks.push_back([until](Study& s, const FrozenTrial&) {
      if (complete_trials(s) >= until) s.stop();
    });
    if (complete_trials(study) >= until) options.n_trials = 0;
  }
  study.optimize(
      [&](Trial& t) {
        const double x = t.suggest_float("x", -3, 3);
        const int64_t n = t.suggest_int("n", 0, 10);
        const std::string c = t.suggest_categorical("c", {"a", "b"});
        t.report(0, x);
        t.set_user_attr("pid", static_cast<int64_t>(getpid()));
        if (t.number() == hang_at) {
          t.set_user_attr("hanging", true);
          std::this_thread::sleep_for(std::chrono::minutes(10));
        }
        std::this_thread::sleep_for(std::chrono::duration<double>(sleep));
        return x * x + static_cast<double>(n) + (c == "b" ? 0.5 : 0.0);
      },
      options);
  if (auto it = args.find("dump"); it != args.end()) {
    std::ofstream out(it->second);
    out << trials_to_json(study.storage().study(study.id()), study.trials()).dump(1) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "hpo_test_worker: " << e.what() << "\n";
    return 1;
  }
}
