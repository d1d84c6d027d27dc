// Several processes on one SQLite file (each a hpo_test_worker): a study one writes and another
// reads, a worker killed mid-trial and the study resumed, two workers sharing a study, and the
// heartbeat keeping a long trial of another process alive, and workers splitting a grid.
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "hpo/hpo.h"
#include "scratch_dir.h"
#include "storage_conformance.h"
#include "worker_process.h"

using namespace nabla::hpo;
using testing::check_resumed_study;
using testing::check_shared_study;
using testing::pid_of;
using testing::Worker;
using testing::operator+;

namespace {

nabla::testing::ScratchDir& scratch() {
  static nabla::testing::ScratchDir dir(nabla::testing::ScratchDir::Place::memory);
  return dir;
}

// A new file with an empty study of that name.
std::string file_with_study(const std::string& study) {
  const std::string path = scratch().file(study);
  create_study({.name = study, .storage = std::make_shared<SqliteStorage>(path)});
  return path;
}

}  // namespace

TEST_CASE("sqlite processes: a study one process writes, another reads in full") {
  const std::string path = file_with_study("written");
  const std::string dump = scratch().file("written", ".json");
  Worker worker(
      {"--storage", path, "--study", "written", "--trials", "12", "--seed", "7", "--dump", dump});
  INFO(worker.log());
  REQUIRE(worker.wait() == 0);

  SqliteStorage storage(path);
  const int64_t id = *storage.find_study("written");
  const auto trials = storage.trials(id);
  REQUIRE(trials.size() == 12);
  for (const auto& t : trials) {
    CHECK(t->state == TrialState::complete);
    CHECK(t->params.size() == 3);
    CHECK(t->intermediate_values.size() == 1);
    CHECK(pid_of(t) == worker.pid());
  }
  std::ifstream in(dump);
  CHECK(nlohmann::json::parse(in) == trials_to_json(storage.study(id), trials));
}

TEST_CASE("sqlite processes: a killed worker loses no finished trial, and the next one resumes") {
  const std::string path = file_with_study("resume");
  const std::vector<std::string> common = {
      "--storage",   path,  "--study", "resume", "--until",       "8", "--seed", "3",
      "--heartbeat", "0.1", "--grace", "0.5",    "--max-retries", "1"};
  Worker first(common + std::vector<std::string>{"--hang-at", "4"});

  SqliteStorage storage(path);
  const int64_t id = *storage.find_study("resume");
  std::vector<TrialPtr> trials;
  for (int i = 0; i < 1000; ++i) {
    trials = storage.trials(id);
    if (trials.size() > 4 && trials[4]->user_attrs.contains("hanging")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  INFO(first.log());
  REQUIRE(trials.size() == 5);
  first.kill();
  const auto finished =
      conformance::json_of(std::vector<TrialPtr>(trials.begin(), trials.begin() + 4));
  trials = storage.trials(id);
  REQUIRE(trials.size() == 5);
  CHECK(conformance::json_of(std::vector<TrialPtr>(trials.begin(), trials.begin() + 4)) ==
        finished);
  for (int k = 0; k < 4; ++k) CHECK(trials[k]->state == TrialState::complete);
  CHECK(trials[4]->state == TrialState::running);

  // Past the grace period the next worker fails the abandoned trial and retries its parameters.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  Worker second(common);
  INFO(second.log());
  REQUIRE(second.wait() == 0);
  check_resumed_study(storage.trials(id), finished, "no heartbeat for more than 0.5", second.pid());
}

TEST_CASE("sqlite processes: two workers share a study, no trial lost or duplicated") {
  const std::string path = file_with_study("pair");
  const std::vector<std::string> common = {"--storage", path, "--study",  "pair",
                                           "--trials",  "40", "--n-jobs", "2"};
  Worker a(common + std::vector<std::string>{"--seed", "1"});
  Worker b(common + std::vector<std::string>{"--seed", "2"});
  INFO(a.log());
  INFO(b.log());
  CHECK(a.wait() == 0);
  CHECK(b.wait() == 0);
  CHECK(a.log().find("locked") == std::string::npos);
  CHECK(b.log().find("locked") == std::string::npos);

  SqliteStorage storage(path);
  const auto trials = storage.trials(*storage.find_study("pair"));
  REQUIRE(trials.size() == 80);
  check_shared_study(trials, {{a.pid(), 40}, {b.pid(), 40}});
}

TEST_CASE("sqlite processes: three workers split a grid, each point once, no trial more") {
  const std::string path = file_with_study("grid");
  testing::run_grid_workers(path, "grid");
  SqliteStorage storage(path);
  testing::check_grid_study(storage.trials(*storage.find_study("grid")));
}

TEST_CASE("sqlite processes: the heartbeat keeps a trial longer than the grace period alive") {
  const std::string path = file_with_study("live");
  Worker worker({"--storage", path, "--study", "live", "--trials", "2", "--sleep", "1.0",
                 "--heartbeat", "0.1", "--grace", "0.4"});
  SqliteStorage storage(path);
  const int64_t id = *storage.find_study("live");
  int64_t looks_at_running = 0;
  while (worker.running()) {
    // Another process looking for stale trials, as every worker does before each trial.
    CHECK(storage.fail_stale_trials(id, 0.4).empty());
    for (const auto& t : storage.trials(id)) looks_at_running += t->state == TrialState::running;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO(worker.log());
  CHECK(worker.wait() == 0);
  CHECK(looks_at_running >= 20);
  const auto trials = storage.trials(id);
  REQUIRE(trials.size() == 2);
  for (const auto& t : trials) CHECK(t->state == TrialState::complete);
}
