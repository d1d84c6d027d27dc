// Several processes on one PostgreSQL database, each a hpo_test_worker given a postgresql:// URL:
// two workers sharing a study, three splitting a grid, and a worker killed mid-trial whose finished
// trials survive while the next worker fails its abandoned trial by the server's clock and resumes
// the study.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "hpo/hpo.h"
#include "postgres.h"
#include "storage_conformance.h"
#include "worker_process.h"

using namespace nabla::hpo;
using conformance::json_of;
using testing::Admin;
using testing::check_resumed_study;
using testing::check_shared_study;
using testing::TestDatabase;
using testing::Worker;
using testing::operator+;

TEST_CASE("postgres: two worker processes share a study, no trial lost or duplicated") {
  TestDatabase db;
  if (!db) return;
  create_study({.name = "pair", .storage = open_storage(db.url())});
  const std::vector<std::string> common = {"--storage", db.url(), "--study",  "pair",
                                           "--trials",  "30",     "--n-jobs", "2"};
  Worker a(common + std::vector<std::string>{"--seed", "1"});
  Worker b(common + std::vector<std::string>{"--seed", "2"});
  INFO(a.log());
  INFO(b.log());
  CHECK(a.wait() == 0);
  CHECK(b.wait() == 0);

  PostgresStorage storage(db.url());
  const auto trials = storage.trials(*storage.find_study("pair"));
  REQUIRE(trials.size() == 60);
  for (const auto& t : trials) CHECK(t->params.size() == 3);
  check_shared_study(trials, {{a.pid(), 30}, {b.pid(), 30}});
}

TEST_CASE("postgres: three worker processes split a grid, each point once, no trial more") {
  TestDatabase db;
  if (!db) return;
  create_study({.name = "grid", .storage = open_storage(db.url())});
  testing::run_grid_workers(db.url(), "grid");
  PostgresStorage storage(db.url());
  testing::check_grid_study(storage.trials(*storage.find_study("grid")));
}

TEST_CASE(
    "postgres: a worker killed by SIGKILL loses no finished trial, and the next one resumes") {
  TestDatabase db;
  if (!db) return;
  PostgresStorage storage(db.url());
  const int64_t id = create_study({.name = "resume", .storage = open_storage(db.url())}).id();
  const std::vector<std::string> common = {
      "--storage",   db.url(), "--study", "resume", "--until",       "8", "--seed", "3",
      "--heartbeat", "1",      "--grace", "30",     "--max-retries", "1"};
  Worker first(common + std::vector<std::string>{"--hang-at", "4"});
  std::vector<TrialPtr> trials;
  for (int i = 0; i < 1000; ++i) {
    trials = storage.trials(id);
    if (trials.size() > 4 && trials[4]->user_attrs.contains("hanging")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  INFO(first.log());
  REQUIRE(trials.size() == 5);
  first.kill();
  const auto finished = json_of(std::vector<TrialPtr>(trials.begin(), trials.begin() + 4));
  trials = storage.trials(id);
  REQUIRE(trials.size() == 5);
  CHECK(json_of(std::vector<TrialPtr>(trials.begin(), trials.begin() + 4)) == finished);
  for (int k = 0; k < 4; ++k) CHECK(trials[k]->state == TrialState::complete);
  CHECK(trials[4]->state == TrialState::running);

  // By the server's clock the dead worker's last beat is now an hour old, past the grace period:
  // the next worker fails its trial and runs its parameters again.
  Admin(db.url()).query(
      "UPDATE hpo_trials SET heartbeat = heartbeat - interval '1 hour' WHERE state = 'running'");
  Worker second(common);
  INFO(second.log());
  REQUIRE(second.wait() == 0);
  check_resumed_study(storage.trials(id), finished, "no heartbeat for more than 30.000000 s",
                      second.pid());
}
