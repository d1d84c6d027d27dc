// The SQLite storage: the conformance checks, persistence across connections, files it refuses,
// waiting out another connection's lock, open_storage's URLs, and (skipped unless asked) the cost
// of trials() and of an ask/tell cycle as a study grows.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "scratch_dir.h"
#include "storage_conformance.h"

using namespace nabla::hpo;
using nabla::hpo::conformance::json_of;

namespace {

nabla::testing::ScratchDir& scratch() {
  static nabla::testing::ScratchDir dir(nabla::testing::ScratchDir::Place::memory);
  return dir;
}

std::shared_ptr<Storage> fresh_sqlite() {
  return std::make_shared<SqliteStorage>(scratch().file("conformance"));
}

// Runs `sql` on a connection of the test's own, outside SqliteStorage.
void raw_exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  INFO(sql, ": ", error ? error : "");
  sqlite3_free(error);
  CHECK(rc == SQLITE_OK);
}

struct RawConnection {
  explicit RawConnection(const std::string& path) { REQUIRE(sqlite3_open(path.c_str(), &db) == 0); }
  ~RawConnection() { sqlite3_close(db); }
  sqlite3* db = nullptr;
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

NABLA_STORAGE_CONFORMANCE("sqlite", fresh_sqlite)

TEST_CASE("sqlite storage: a reopened file has every study and trial, and numbering goes on") {
  const std::string path = scratch().file("reopen");
  const Distribution d = FloatDistribution{0, 1, false, std::nullopt};
  std::vector<std::string> written;
  int64_t study = -1;
  {
    SqliteStorage s(path);
    study = s.create_study("kept", {Direction::maximize});
    s.set_study_user_attr(study, "dataset", "cifar10");
    for (int i = 0; i < 4; ++i) {
      const int64_t id = s.create_trial(study, {.user_attrs = {{"i", i}}})->id;
      s.set_trial_param(id, "x", 0.125 * i, d);
      s.set_trial_intermediate_value(id, 0, {0.5 * i});
      if (i < 2) s.set_trial_state_values(id, TrialState::complete, {1.0 * i});
    }
    s.create_trial(study, {.state = TrialState::waiting});
    written = json_of(s.trials(study));
  }
  SqliteStorage again(path);
  CHECK(again.find_study("kept") == study);
  CHECK(again.study(study).user_attrs == nlohmann::json({{"dataset", "cifar10"}}));
  CHECK(again.study(study).directions == std::vector<Direction>{Direction::maximize});
  CHECK(json_of(again.trials(study)) == written);
  CHECK(again.create_trial(study, {})->number == 5);
  CHECK(again.claim_waiting_trial(study)->number == 4);
}

TEST_CASE("sqlite storage: two connections on one file see each other's changes") {
  const std::string path = scratch().file("shared");
  auto a = std::make_shared<SqliteStorage>(path);
  auto b = std::make_shared<SqliteStorage>(path);
  const int64_t study = a->create_study("s", {Direction::minimize});
  CHECK(b->find_study("s") == study);
  const Distribution d = IntDistribution{0, 9, false, 1};
  const int64_t first = a->create_trial(study, {})->id;
  CHECK(b->trials(study).size() == 1);  // b's cache is filled here
  b->set_trial_param(first, "k", int64_t{4}, d);
  const int64_t second = b->create_trial(study, {.state = TrialState::waiting})->id;
  auto seen = a->trials(study);
  REQUIRE(seen.size() == 2);
  CHECK(std::get<int64_t>(seen[0]->params.at("k")) == 4);
  CHECK(a->set_trial_state_values(first, TrialState::complete, {3.0}));
  CHECK(!b->set_trial_state_values(first, TrialState::pruned, {1.0}));
  CHECK(b->trials(study)[0]->values == std::vector<double>{3.0});
  CHECK(b->trial(first)->state == TrialState::complete);
  CHECK(a->claim_waiting_trial(study)->id == second);
  CHECK(b->claim_waiting_trial(study) == nullptr);
  CHECK(json_of(a->trials(study)) == json_of(b->trials(study)));

  // Threads on two connections contend for the file's lock, and wait it out.
  std::vector<int64_t> numbers;
  std::mutex mutex;
  {
    std::vector<std::jthread> threads;
    for (int j = 0; j < 6; ++j)
      threads.emplace_back([&, j] {
        Storage& s = j % 2 ? *a : *b;
        for (int i = 0; i < 20; ++i) {
          const TrialPtr t = s.create_trial(study, {});
          s.set_trial_param(t->id, "k", int64_t{i % 10}, d);
          CHECK(s.set_trial_state_values(t->id, TrialState::complete, {1.0 * i}));
          std::lock_guard lock(mutex);
          numbers.push_back(t->number);
        }
      });
  }
  std::sort(numbers.begin(), numbers.end());
  CHECK(numbers.size() == 120);
  CHECK(numbers.front() == 2);
  CHECK(numbers.back() == 121);
  CHECK(std::adjacent_find(numbers.begin(), numbers.end()) == numbers.end());
  CHECK(json_of(a->trials(study)) == json_of(b->trials(study)));
}

TEST_CASE("sqlite storage: connections opening a new file at once make one schema") {
  const std::string path = scratch().file("opened-at-once");
  std::atomic<int> opened{0};
  {
    std::vector<std::jthread> threads;
    for (int j = 0; j < 6; ++j)
      threads.emplace_back([&, j] {
        SqliteStorage s(path);
        s.create_study(std::string("s").append(std::to_string(j)), {Direction::minimize});
        ++opened;
      });
  }
  CHECK(opened == 6);
  CHECK(SqliteStorage(path).studies().size() == 6);
}

TEST_CASE("sqlite storage: connections claiming or failing trials at once take each one once") {
  const std::string path = scratch().file("claims");
  SqliteStorage a(path), b(path);
  const int64_t study = a.create_study("s", {Direction::minimize});
  constexpr int kTrials = 60;
  for (int i = 0; i < kTrials; ++i) a.create_trial(study, {.state = TrialState::waiting});
  auto from_both = [&](const std::function<std::vector<int64_t>(Storage&)>& take) {
    std::mutex mutex;
    std::vector<int64_t> taken;
    {
      std::vector<std::jthread> threads;
      for (int j = 0; j < 4; ++j)
        threads.emplace_back([&, j] {
          auto mine = take(j % 2 ? static_cast<Storage&>(a) : b);
          std::lock_guard lock(mutex);
          taken.insert(taken.end(), mine.begin(), mine.end());
        });
    }
    std::sort(taken.begin(), taken.end());
    return taken;
  };
  std::vector<int64_t> all(kTrials);
  for (int i = 0; i < kTrials; ++i) all[static_cast<size_t>(i)] = i;

  const auto claimed = from_both([&](Storage& s) {
    std::vector<int64_t> numbers;
    while (TrialPtr t = s.claim_waiting_trial(study)) numbers.push_back(t->number);
    return numbers;
  });
  CHECK(claimed == all);

  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  const auto failed = from_both([&](Storage& s) {
    std::vector<int64_t> numbers;
    for (const auto& t : s.fail_stale_trials(study, 0.1)) numbers.push_back(t->number);
    return numbers;
  });
  CHECK(failed == all);
  for (const auto& t : b.trials(study)) CHECK(t->state == TrialState::failed);
}

TEST_CASE("sqlite storage: files it cannot use are errors that name them") {
  const std::string nowhere = (scratch().path() / "missing-dir" / "s.db").string();
  std::string message = error_of([&] { SqliteStorage s(nowhere); });
  CHECK(message.find(nowhere) != std::string::npos);
  CHECK_THROWS_AS(SqliteStorage{nowhere}, nabla::IOError);

  const std::string text = scratch().file("text", ".txt");
  std::ofstream(text) << "this is a plain text file, long enough to have a header of sorts\n";
  message = error_of([&] { SqliteStorage s(text); });
  CHECK(message.find(text) != std::string::npos);
  CHECK(message.find("not a database") != std::string::npos);
  CHECK_THROWS_AS(SqliteStorage{text}, nabla::IOError);

  const std::string empty = scratch().file("empty");
  std::ofstream{empty};
  SqliteStorage from_empty(empty);  // an empty file is a new database
  CHECK(from_empty.studies().empty());

  const std::string foreign = scratch().file("foreign");
  {
    RawConnection raw(foreign);
    raw_exec(raw.db, "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)");
  }
  message = error_of([&] { SqliteStorage s(foreign); });
  CHECK(message.find(foreign) != std::string::npos);
  CHECK(message.find("1 tables") != std::string::npos);
  CHECK_THROWS_AS(SqliteStorage{foreign}, nabla::ValueError);

  const std::string newer = scratch().file("newer");
  { SqliteStorage s(newer); }
  {
    RawConnection raw(newer);
    raw_exec(raw.db, "UPDATE hpo_schema SET version = 99");
  }
  message = error_of([&] { SqliteStorage s(newer); });
  CHECK(message.find(newer) != std::string::npos);
  CHECK(message.find("version 99") != std::string::npos);
  CHECK_THROWS_AS(SqliteStorage{newer}, nabla::ValueError);

  CHECK_THROWS_AS(SqliteStorage{""}, nabla::ValueError);
  CHECK_THROWS_AS(SqliteStorage{":memory:"}, nabla::ValueError);
}

TEST_CASE("sqlite storage: a call waits out another connection's lock, up to lock_timeout") {
  const std::string path = scratch().file("locked");
  SqliteStorage patient(path, {.lock_timeout = 30});
  SqliteStorage hasty(path, {.lock_timeout = 0.2});
  RawConnection raw(path);
  raw_exec(raw.db, "BEGIN IMMEDIATE");
  const auto start = std::chrono::steady_clock::now();
  const std::string message = error_of([&] { hasty.create_study("hasty", {Direction::minimize}); });
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(message.find("stayed locked by other connections for more than 0.2 s") !=
        std::string::npos);
  CHECK(message.find(path) != std::string::npos);
  CHECK(waited >= 0.2);
  CHECK(hasty.studies().empty());  // readers are not blocked by the writer

  std::jthread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    raw_exec(raw.db, "COMMIT");
  });
  CHECK(patient.create_study("patient", {Direction::minimize}) >= 0);
  release.join();
  CHECK(hasty.find_study("patient"));
}

TEST_CASE("open_storage: memory, sqlite URLs and .db paths, and other schemes refused") {
  CHECK(dynamic_cast<InMemoryStorage*>(open_storage("").get()));
  CHECK(dynamic_cast<InMemoryStorage*>(open_storage("memory").get()));

  const std::string absolute = scratch().file("absolute");
  REQUIRE(absolute.starts_with("/"));
  auto by_url = open_storage("sqlite:///" + absolute);
  CHECK(dynamic_cast<SqliteStorage*>(by_url.get()));
  CHECK(std::filesystem::exists(absolute));
  const int64_t id = by_url->create_study("s", {Direction::minimize});
  CHECK(open_storage(absolute)->find_study("s") == id);  // a plain path ending in .db

  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(scratch().path());
  auto relative = open_storage("sqlite:///relative.db");
  auto plain = open_storage("sub-relative.db");
  std::filesystem::current_path(cwd);
  CHECK(dynamic_cast<SqliteStorage*>(relative.get()));
  CHECK(std::filesystem::exists(scratch().path() / "relative.db"));
  CHECK(std::filesystem::exists(scratch().path() / "sub-relative.db"));

  std::string message = error_of([] { open_storage("mysql://bob:hunter2@db/hpo"); });
  CHECK(message.find("unknown storage") != std::string::npos);
  CHECK(message.find("sqlite:///relative/path.db") != std::string::npos);
  CHECK(message.find("hunter2") == std::string::npos);
  CHECK_THROWS_AS(open_storage("sqlite://"), nabla::ValueError);
  CHECK_THROWS_AS(open_storage("sqlite:///"), nabla::ValueError);
  CHECK_THROWS_AS(open_storage("study.txt"), nabla::ValueError);
}
