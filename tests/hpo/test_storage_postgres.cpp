// PostgresStorage on a real server: the conformance checks, connection errors, open_storage's
// URLs, the schema, exact round trips, threads on several storages, a study with n_jobs, the
// heartbeat by the server's clock, the incremental trials(), lost connections and retried
// transactions.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <mutex>
#include <set>
#include <thread>

#include "core/error.h"
#include "hpo/hpo.h"
#include "postgres.h"
#include "storage_conformance.h"

using namespace nabla::hpo;
using nabla::hpo::testing::Admin;
using nabla::hpo::testing::TestDatabase;

namespace {

// A storage on a database of its own, dropped with the storage.
std::shared_ptr<Storage> fresh_postgres() {
  struct Fresh {
    TestDatabase db;
    PostgresStorage storage{db.url()};
  };
  auto fresh = std::make_shared<Fresh>();
  return std::shared_ptr<Storage>(fresh, &fresh->storage);
}

// A port on 127.0.0.1 that nothing listens on: the kernel's pick, closed again.
int closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const nabla::Error& e) {
    return e.what();
  }
  return "";
}

// Runs the same calls on any storage, so that PostgreSQL's answers can be held against memory's.
TrialPtr exercise(Storage& s) {
  const int64_t study = s.create_study("exact", {Direction::minimize, Direction::maximize});
  s.set_study_user_attr(study, "owner", "ålesund ☃");
  TrialPtr t = s.create_trial(study, {.user_attrs = {{"note", "a \"quoted\"\nline"}}});
  s.set_trial_param(t->id, "big", 1e18, make_float("big", 1, 1e20, true, {}));
  s.set_trial_param(t->id, "tiny", 1e-300, make_float("tiny", 0, 1, false, {}));
  s.set_trial_param(t->id, "third", 1.0 / 3.0, make_float("third", 0, 1, false, {}));
  s.set_trial_param(t->id, "width", int64_t{64},
                    IntDistribution{.low = 16, .high = 256, .log = true});
  s.set_trial_param(t->id, "opt", std::string("adam"),
                    CategoricalDistribution{.choices = {std::string("sgd"), std::string("adam")}});
  s.set_trial_param(t->id, "flag", true, CategoricalDistribution{.choices = {true, false}});
  s.set_trial_intermediate_value(t->id, 0, {0.1, 2.0});
  s.set_trial_intermediate_value(t->id, 7, {std::nan(""), INFINITY});
  s.set_trial_intermediate_value(t->id, 7, {0.5, -INFINITY});
  s.set_trial_system_attr(t->id, "fixed_params", {{"x", 1e18}});
  CHECK(s.set_trial_state_values(t->id, TrialState::complete, {1.0 / 7.0, -2.5e-308}));
  return s.trial(t->id);
}

nlohmann::json without_times(const FrozenTrial& t) {
  nlohmann::json j = to_json(t);
  j.erase("datetime_start");
  j.erase("datetime_complete");
  j.erase("id");
  return j;
}

}  // namespace

NABLA_STORAGE_CONFORMANCE_IF("postgres: PostgreSQL", nabla::hpo::testing::postgres_available(),
                             fresh_postgres)

TEST_CASE("postgres: a malformed URL is a ValueError, an unreachable server an IOError naming it") {
  CHECK_THROWS_AS(PostgresStorage("postgresql://[bad"), nabla::ValueError);
  CHECK(error_of([] {
          PostgresStorage("postgresql://[bad");
        }).starts_with("PostgresStorage: malformed connection string: "));
  const int port = closed_port();
  const std::string url = "postgresql://someone:secret@127.0.0.1:" + std::to_string(port) + "/db";
  CHECK_THROWS_AS(PostgresStorage{url}, nabla::IOError);
  const std::string message = error_of([&] { PostgresStorage{url}; });
  CHECK(message.starts_with("PostgresStorage: cannot connect to the server at 127.0.0.1:" +
                            std::to_string(port) + " (database 'db', user 'someone'): "));
  CHECK(message.find("Connection refused") != std::string::npos);
  CHECK(message.find("secret") == std::string::npos);
  CHECK(error_of([&] { open_storage(url); }) == message);
}

TEST_CASE("postgres: the schema is created once, versioned and shared, and open_storage opens it") {
  TestDatabase db;
  if (!db) return;
  // Storages opening an empty database at the same moment take turns creating the schema.
  std::vector<std::unique_ptr<PostgresStorage>> storages(4);
  {
    std::vector<std::jthread> threads;
    for (auto& s : storages)
      threads.emplace_back([&] { s = std::make_unique<PostgresStorage>(db.url()); });
  }
  Admin admin(db.url());
  CHECK(admin.query("SELECT count(*) || ':' || min(version) FROM hpo_schema_version") == "1:1");
  const int64_t id = storages[0]->create_study("shared", {Direction::maximize});
  CHECK(storages[3]->find_study("shared") == id);
  CHECK(storages[2]->study(id).directions == std::vector<Direction>{Direction::maximize});
  CHECK_THROWS_AS(storages[1]->create_study("shared", {Direction::minimize}), nabla::ValueError);
  CHECK(storages[1]->studies().size() == 1);
  // open_storage takes both spellings of the scheme.
  REQUIRE(db.url().starts_with("postgresql://"));
  auto opened = open_storage("postgres://" + db.url().substr(13));
  CHECK(dynamic_cast<PostgresStorage*>(opened.get()));
  CHECK(opened->find_study("shared") == id);
  CHECK(dynamic_cast<PostgresStorage*>(open_storage(db.url()).get()));

  admin.query("UPDATE hpo_schema_version SET version = 2");
  CHECK(error_of([&] { PostgresStorage{db.url()}; }) ==
        "PostgresStorage: the database holds hpo schema version 2, but this build reads version 1");
}

TEST_CASE("postgres: trials read back exactly as memory keeps them, from a fresh storage too") {
  TestDatabase db;
  if (!db) return;
  InMemoryStorage memory;
  const TrialPtr expected = exercise(memory);
  PostgresStorage storage(db.url());
  const TrialPtr got = exercise(storage);
  CHECK(without_times(*got) == without_times(*expected));
  CHECK(std::get<double>(got->params.at("big")) == 1e18);
  CHECK(std::get<double>(got->params.at("tiny")) == 1e-300);
  CHECK(std::get<double>(got->params.at("third")) == 1.0 / 3.0);
  CHECK(got->values == std::vector<double>{1.0 / 7.0, -2.5e-308});
  CHECK(got->intermediate_values.at(7) == std::vector<double>{0.5, -INFINITY});
  CHECK(got->system_attrs["fixed_params"]["x"].is_number_float());
  REQUIRE(got->started);
  REQUIRE(got->completed);
  CHECK(*got->completed >= *got->started);

  // Another storage, as another machine would open it, reads the same from the server.
  PostgresStorage again(db.url());
  const int64_t study = *again.find_study("exact");
  CHECK(again.study(study).user_attrs["owner"] == "ålesund ☃");
  const auto trials = again.trials(study);
  REQUIRE(trials.size() == 1);
  CHECK(without_times(*trials[0]) == without_times(*expected));

  // Reports may be NaN or infinite while the trial runs.
  TrialPtr running = again.create_trial(study, {});
  again.set_trial_intermediate_value(running->id, 3, {std::nan(""), INFINITY});
  const auto reported = storage.trial(running->id)->intermediate_values.at(3);
  CHECK(std::isnan(reported[0]));
  CHECK(reported[1] == INFINITY);

  // A finished trial refuses every change, and finishing it twice is refused quietly.
  CHECK_THROWS_WITH_AS(storage.set_trial_user_attr(got->id, "late", 1),
                       "PostgresStorage::set_trial_user_attr: trial 0 is already complete",
                       nabla::ValueError);
  CHECK_THROWS_AS(storage.set_trial_param(got->id, "x", 1.0, FloatDistribution{}),
                  nabla::ValueError);
  CHECK_THROWS_AS(storage.set_trial_intermediate_value(got->id, 9, {1.0, 1.0}), nabla::ValueError);
  CHECK_FALSE(storage.set_trial_state_values(got->id, TrialState::failed, {}));
  CHECK(storage.trial(got->id)->state == TrialState::complete);
  CHECK_THROWS_AS(storage.trial(12345), nabla::ValueError);
  CHECK_THROWS_AS(storage.trials(12345), nabla::ValueError);
  CHECK_THROWS_AS(storage.create_trial(12345, {}), nabla::ValueError);
}

TEST_CASE("postgres: threads on two storages number and claim trials without gaps or twins") {
  TestDatabase db;
  if (!db) return;
  // Two storages stand for two machines: each has its own connections.
  PostgresStorage a(db.url()), b(db.url());
  const int64_t study = a.create_study("busy", {Direction::minimize});
  constexpr int kThreads = 8, kEach = 25;
  std::mutex mutex;
  std::multiset<int64_t> numbers, claimed;
  {
    std::vector<std::jthread> threads;
    for (int j = 0; j < kThreads; ++j)
      threads.emplace_back([&, j] {
        Storage& s = j % 2 ? static_cast<Storage&>(a) : b;
        for (int i = 0; i < kEach; ++i) {
          const int64_t n = s.create_trial(study, {.state = TrialState::waiting})->number;
          std::lock_guard lock(mutex);
          numbers.insert(n);
        }
      });
  }
  REQUIRE(numbers.size() == kThreads * kEach);
  CHECK(*numbers.begin() == 0);
  CHECK(*numbers.rbegin() == kThreads * kEach - 1);
  CHECK(std::set<int64_t>(numbers.begin(), numbers.end()).size() == numbers.size());
  {
    std::vector<std::jthread> threads;
    for (int j = 0; j < kThreads; ++j)
      threads.emplace_back([&, j] {
        Storage& s = j % 2 ? static_cast<Storage&>(a) : b;
        while (TrialPtr t = s.claim_waiting_trial(study)) {
          CHECK(t->state == TrialState::running);
          std::lock_guard lock(mutex);
          claimed.insert(t->number);
        }
      });
  }
  CHECK(claimed.size() == kThreads * kEach);
  CHECK(std::set<int64_t>(claimed.begin(), claimed.end()).size() == claimed.size());
  for (const auto& t : b.trials(study)) CHECK(t->state == TrialState::running);
}

TEST_CASE("postgres: a study with n_jobs = 4 runs exactly as it does in memory") {
  TestDatabase db;
  if (!db) return;
  auto run = [](std::shared_ptr<Storage> storage) {
    Study study = create_study({.storage = storage, .sampler = std::make_shared<RandomSampler>(7)});
    study.optimize(
        [](Trial& t) {
          const double x = t.suggest_float("x", -1, 1);
          const int64_t n = t.suggest_int("n", 0, 3);
          t.report(0, x);
          return x * x + static_cast<double>(n);
        },
        {.n_trials = 40, .n_jobs = 4});
    return study.trials();
  };
  const auto expected = run(std::make_shared<InMemoryStorage>());
  const auto got = run(std::make_shared<PostgresStorage>(db.url()));
  REQUIRE(got.size() == 40);
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i]->number == static_cast<int64_t>(i));
    CHECK(got[i]->state == TrialState::complete);
    CHECK(got[i]->params == expected[i]->params);
    CHECK(got[i]->values == expected[i]->values);
  }
}

TEST_CASE("postgres: the heartbeat fails a stale trial by the server's clock, once") {
  TestDatabase db;
  if (!db) return;
  PostgresStorage storage(db.url()), other(db.url());
  const int64_t study = storage.create_study("beats", {Direction::minimize});
  const TrialPtr stale = storage.create_trial(study, {});
  const TrialPtr alive = storage.create_trial(study, {});
  storage.record_heartbeat(stale->id);
  storage.record_heartbeat(alive->id);
  CHECK(storage.fail_stale_trials(study, 60).empty());

  // The server's clock says the worker of `stale` last beat an hour ago.
  Admin admin(db.url());
  admin.query("UPDATE hpo_trials SET heartbeat = now() - interval '1 hour' WHERE trial_id = " +
              std::to_string(stale->id));
  const auto failed = other.fail_stale_trials(study, 60);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0]->id == stale->id);
  CHECK(failed[0]->state == TrialState::failed);
  CHECK(failed[0]->system_attrs["fail_reason"] == "no heartbeat for more than 60.000000 s");
  CHECK(storage.fail_stale_trials(study, 60).empty());
  CHECK(storage.trial(stale->id)->system_attrs["fail_reason"] ==
        failed[0]->system_attrs["fail_reason"]);
  // Its worker, back from the dead, cannot finish it.
  CHECK_FALSE(storage.set_trial_state_values(stale->id, TrialState::complete, {1.0}));
  CHECK(storage.trial(stale->id)->values.empty());
  CHECK(storage.trial(alive->id)->state == TrialState::running);
}

TEST_CASE("postgres: a study retries the trial of a worker that stopped beating") {
  TestDatabase db;
  if (!db) return;
  auto storage = std::make_shared<PostgresStorage>(db.url());
  Study study = create_study({.name = "retry",
                              .storage = storage,
                              .sampler = std::make_shared<RandomSampler>(3),
                              .heartbeat_interval = 30,
                              .max_retries = 1});
  // A worker elsewhere started trial 0 with x = 0.25, then died.
  const TrialPtr dead = storage->create_trial(study.id(), {});
  storage->set_trial_param(dead->id, "x", 0.25, make_float("x", 0, 1, false, {}));
  Admin(db.url()).query("UPDATE hpo_trials SET heartbeat = now() - interval '1 hour'");
  study.optimize([](Trial& t) { return t.suggest_float("x", 0, 1); }, {.n_trials = 1});
  const auto trials = study.trials();
  REQUIRE(trials.size() == 2);
  CHECK(trials[0]->state == TrialState::failed);
  CHECK(trials[1]->state == TrialState::complete);
  CHECK(trials[1]->value() == 0.25);
  CHECK(trials[1]->system_attrs["retried_from"] == 0);
}

TEST_CASE("postgres: trials() fetches only the trials changed since its last call") {
  TestDatabase db;
  if (!db) return;
  PostgresStorage storage(db.url()), other(db.url());
  const int64_t study = storage.create_study("cache", {Direction::minimize});
  for (int i = 0; i < 5; ++i) {
    const TrialPtr t = storage.create_trial(study, {});
    if (i < 4) storage.set_trial_state_values(t->id, TrialState::complete, {double(i)});
  }
  const auto first = storage.trials(study);
  REQUIRE(first.size() == 5);
  // Unchanged rows are not read again: the very same objects come back.
  const auto second = storage.trials(study);
  for (size_t i = 0; i < 5; ++i) CHECK(second[i] == first[i]);

  // A change made through another storage reaches this one, and only that trial is new.
  other.set_trial_user_attr(first[4]->id, "epoch", 3);
  other.create_trial(study, {});
  const auto third = storage.trials(study);
  REQUIRE(third.size() == 6);
  for (size_t i = 0; i < 4; ++i) CHECK(third[i] == first[i]);
  CHECK(third[4] != first[4]);
  CHECK(third[4]->user_attrs["epoch"] == 3);
  CHECK(third[5]->number == 5);
  // Finished trials are served from the cache by trial() as well.
  CHECK(storage.trial(first[2]->id) == first[2]);
}

TEST_CASE("postgres: a lost connection is reconnected once, then the call fails naming itself") {
  TestDatabase db;
  if (!db) return;
  PostgresStorage storage(db.url());
  const int64_t study = storage.create_study("flaky", {Direction::minimize});
  const TrialPtr t = storage.create_trial(study, {});
  // From the server's first database: a session cannot turn away its own database.
  Admin admin(nabla::hpo::testing::PostgresServer::get().url());
  const std::string kill_storage =
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" +
      db.name() + "'";
  CHECK(admin.query(kill_storage) == "1");
  CHECK(storage.trials(study).size() == 1);
  CHECK(admin.query(kill_storage) == "1");
  storage.set_trial_user_attr(t->id, "after", "reconnect");
  CHECK(storage.trial(t->id)->user_attrs["after"] == "reconnect");

  // Now the database turns every connection away.
  admin.query("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS false");
  CHECK(admin.query(kill_storage) == "1");
  const std::string message = error_of([&] { storage.trials(study); });
  CHECK(message.starts_with(
      "PostgresStorage::trials: lost the connection and could not reconnect to the server at "));
  CHECK(message.find("is not currently accepting connections") != std::string::npos);
  CHECK_THROWS_AS(storage.trials(study), nabla::IOError);
  admin.query("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS true");
  CHECK(storage.trials(study).size() == 1);
}

TEST_CASE("postgres: serialization failures and deadlocks are retried inside the storage") {
  TestDatabase db;
  if (!db) return;
  PostgresStorage storage(db.url());
  const int64_t study = storage.create_study("contended", {Direction::minimize});
  // A trigger makes the first `fail_first` inserts of a trial fail as the server would under
  // contention; the sequence counts the attempts, since a rollback does not undo nextval.
  Admin admin(db.url());
  admin.query(
      "CREATE SEQUENCE attempts; CREATE TABLE injection (code text, fail_first int);"
      "INSERT INTO injection VALUES ('40001', 2);"
      "CREATE FUNCTION inject() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE i injection; "
      "BEGIN SELECT * INTO i FROM injection; IF nextval('attempts') <= i.fail_first THEN "
      "RAISE EXCEPTION 'injected' USING ERRCODE = i.code; END IF; RETURN NEW; END $$;"
      "CREATE TRIGGER inject BEFORE INSERT ON hpo_trials FOR EACH ROW EXECUTE FUNCTION inject()");
  CHECK(storage.create_trial(study, {})->number == 0);
  CHECK(admin.query("SELECT last_value FROM attempts") == "3");

  admin.query("UPDATE injection SET code = '40P01', fail_first = 1000000");
  const std::string message = error_of([&] { storage.create_trial(study, {}); });
  CHECK(message.starts_with("PostgresStorage::create_trial: gave up after 8 attempts: "));
  CHECK(message.find("injected") != std::string::npos);
  CHECK(admin.query("SELECT last_value FROM attempts") == "11");
  // The failed attempts left nothing behind: the next trial takes number 1.
  admin.query("DROP TRIGGER inject ON hpo_trials");
  CHECK(storage.create_trial(study, {})->number == 1);
  CHECK(storage.trials(study).size() == 2);
}
