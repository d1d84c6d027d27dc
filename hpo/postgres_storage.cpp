// PostgresStorage over libpq: the schema, a pool of connections, transactions retried after
// serialization failures and deadlocks, a lost connection reconnected once, and the change counter
// that keeps trials() incremental.
#include "hpo/postgres_storage.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/error.h"

namespace nabla::hpo {

// Note [change counter]: trials(study) must stay cheap as a study grows, so the storage keeps the
// trials it has seen and asks the server only for rows changed since its last call. Each study row
// carries a counter that every transaction changing one of the study's trials increments, stamping
// the trial rows it writes with the new value; a reader fetches `change_seq > the largest it has
// seen`. That is sound only if the values commit in the order they are handed out: a reader that
// has seen 11 must never later discover a 10. The increment is an UPDATE of the study row, whose
// lock is held until COMMIT, so the transaction that took 10 has committed (or rolled back, giving
// 10 back) before another can take 11: every snapshot sees a prefix 1..n. The same lock hands out
// trial numbers in creation order. Every writer takes the study row before any trial row, so
// writers never deadlock each other (record_heartbeat takes one trial row and nothing else), and
// under READ COMMITTED a statement after the lock reads what the previous holder committed.
// Finished trials never change: once fetched they are never read from the server again.

namespace {

constexpr int kSchemaVersion = 1;
// Attempts at a transaction that keeps meeting serialization failures or deadlocks: each is rolled
// back by the server, so it runs again after a randomized pause that doubles each time.
constexpr int kMaxAttempts = 8;
// Any fixed key: storages creating the schema at the same moment take turns on it.
constexpr int64_t kSchemaLockKey = 0x6e61626c61687030;

// Trial numbers come from the study row (Note [change counter]); the JSON columns hold text, so
// that numbers come back exactly as nlohmann wrote them (jsonb would turn 1e+18 into an integer).
const char* const kSchema = R"sql(
CREATE TABLE hpo_schema_version (version integer NOT NULL);
CREATE TABLE hpo_studies (
  study_id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  directions text NOT NULL,
  user_attrs text NOT NULL DEFAULT '{}',
  system_attrs text NOT NULL DEFAULT '{}',
  trial_count bigint NOT NULL DEFAULT 0,
  change_seq bigint NOT NULL DEFAULT 0);
CREATE TABLE hpo_trials (
  trial_id bigserial PRIMARY KEY,
  study_id bigint NOT NULL REFERENCES hpo_studies ON DELETE CASCADE,
  number bigint NOT NULL,
  state text NOT NULL,
  objective_values float8[] NOT NULL DEFAULT '{}',
  params text NOT NULL DEFAULT '{}',               -- name: {"value": ..., "distribution": ...}
  intermediate_values text NOT NULL DEFAULT '{}',  -- step: [values], NaN and infinities as text
  user_attrs text NOT NULL,
  system_attrs text NOT NULL,
  started timestamptz,
  completed timestamptz,
  heartbeat timestamptz,
  change_seq bigint NOT NULL,
  UNIQUE (study_id, number));
CREATE INDEX hpo_trials_by_change ON hpo_trials (study_id, change_seq);
CREATE INDEX hpo_trials_by_state ON hpo_trials (study_id, state, number);
)sql";

// What trial_from_row reads, in its order; the trials table is always aliased `t`.
const char* const kTrialColumns =
    "t.trial_id, t.number, t.state, t.objective_values::text, t.params, t.intermediate_values, "
    "t.user_attrs, t.system_attrs, extract(epoch FROM t.started), extract(epoch FROM t.completed), "
    "t.change_seq";

// Takes the study's lock and the next value of its counter, for the trial `$1`.
const char* const kLockStudyOfTrial =
    "UPDATE hpo_studies SET change_seq = change_seq + 1 WHERE study_id = "
    "(SELECT study_id FROM hpo_trials WHERE trial_id = $1) RETURNING change_seq";
const char* const kLockStudy =
    "UPDATE hpo_studies SET change_seq = change_seq + 1 WHERE study_id = $1 RETURNING change_seq";

// A failed statement, as the transaction loop needs it.
class PgFailure : public std::runtime_error {
 public:
  PgFailure(const std::string& message, std::string sqlstate, bool connection_lost)
      : std::runtime_error(message),
        sqlstate_(std::move(sqlstate)),
        connection_lost_(connection_lost) {}
  // The server rolled the transaction back and running it again may succeed.
  bool retryable() const { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }
  bool connection_lost() const { return connection_lost_; }

 private:
  std::string sqlstate_;
  bool connection_lost_;
};

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  Result(Result&& other) noexcept : r_(std::exchange(other.r_, nullptr)) {}
  Result& operator=(Result&&) = delete;
  ~Result() { PQclear(r_); }

  PGresult* get() const { return r_; }
  int rows() const { return PQntuples(r_); }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col) == 1; }
  std::string text(int row, int col) const { return PQgetvalue(r_, row, col); }
  int64_t integer(int row, int col) const {
    return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
  }
  double real(int row, int col) const { return std::strtod(PQgetvalue(r_, row, col), nullptr); }
  bool boolean(int row, int col) const { return PQgetvalue(r_, row, col)[0] == 't'; }

 private:
  PGresult* r_;
};

class Connection {
 public:
  // Never throws: ok() says whether it connected. A libpq default connect_timeout of 10 s, which
  // the string's own connect_timeout overrides, keeps an unreachable host from hanging a worker.
  explicit Connection(const std::string& url) {
    const char* keys[] = {"connect_timeout", "dbname", "fallback_application_name", nullptr};
    const char* values[] = {"10", url.c_str(), "nabla-hpo", nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (ok())
      PQsetNoticeProcessor(
          conn_, [](void*, const char*) {}, nullptr);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() { PQfinish(conn_); }

  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  std::string error() const { return trimmed(PQerrorMessage(conn_)); }
  // For messages; never the password.
  std::string describe() const {
    auto text = [](const char* s) { return std::string(s ? s : ""); };
    return "the server at " + text(PQhost(conn_)) + ":" + text(PQport(conn_)) + " (database '" +
           text(PQdb(conn_)) + "', user '" + text(PQuser(conn_)) + "')";
  }

  Result exec(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    Result r(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0));
    check(r);
    return r;
  }
  // Several statements without parameters, in one round trip.
  void script(const char* sql) { check(Result(PQexec(conn_, sql))); }

 private:
  void check(const Result& r) {
    const ExecStatusType status = PQresultStatus(r.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
    const char* state = r.get() ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
    std::string sqlstate = state ? state : "";
    // Class 08 is a connection exception; 57P01-57P03 the server shutting this session down.
    const bool lost = PQstatus(conn_) == CONNECTION_BAD || sqlstate.starts_with("08") ||
                      sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
    std::string message = trimmed(r.get() ? PQresultErrorMessage(r.get()) : "");
    if (message.empty()) message = error();
    throw PgFailure(message, std::move(sqlstate), lost);
  }

  PGconn* conn_ = nullptr;
};

std::string str(int64_t v) { return std::to_string(v); }

// Shortest text that reads back as the same double; PostgreSQL's spelling of the others.
std::string str(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  return std::string(buffer, end);
}

std::string float_array(const std::vector<double>& values) {
  std::string s = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) s += ',';
    s += str(values[i]);
  }
  return s + "}";
}

// float8[] as PostgreSQL prints it: {1.5,NaN,-Infinity}; strtod reads those spellings too.
std::vector<double> parse_float_array(const std::string& text) {
  std::vector<double> values;
  const char* p = text.c_str() + 1;
  while (*p && *p != '}') {
    char* end = nullptr;
    values.push_back(std::strtod(p, &end));
    p = *end == ',' ? end + 1 : end;
  }
  return values;
}

// JSON has no NaN or infinity; reported values may be either, so they travel as strings.
nlohmann::json number_json(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(str(v));
}
double json_number(const nlohmann::json& j) {
  return j.is_string() ? std::strtod(j.get<std::string>().c_str(), nullptr) : j.get<double>();
}

std::string directions_text(const std::vector<Direction>& directions) {
  nlohmann::json j = nlohmann::json::array();
  for (Direction d : directions) j.push_back(name(d));
  return j.dump();
}

std::vector<Direction> parse_directions(const std::string& text) {
  std::vector<Direction> directions;
  for (const auto& d : nlohmann::json::parse(text)) directions.push_back(direction_from_name(d));
  return directions;
}

struct TrialRow {
  TrialPtr trial;
  int64_t change_seq = 0;
};

TrialRow trial_from_row(const Result& r, int row) {
  auto t = std::make_shared<FrozenTrial>();
  t->id = r.integer(row, 0);
  t->number = r.integer(row, 1);
  try {
    t->state = trial_state_from_name(r.text(row, 2));
    t->values = parse_float_array(r.text(row, 3));
    const auto params = nlohmann::json::parse(r.text(row, 4));
    for (const auto& [name, p] : params.items()) {
      t->params[name] = param_value_from_json(p.at("value"));
      t->distributions[name] = distribution_from_json(p.at("distribution"));
    }
    const auto reports = nlohmann::json::parse(r.text(row, 5));
    for (const auto& [step, values] : reports.items()) {
      auto& out = t->intermediate_values[std::stoll(step)];
      for (const auto& v : values) out.push_back(json_number(v));
    }
    t->user_attrs = nlohmann::json::parse(r.text(row, 6));
    t->system_attrs = nlohmann::json::parse(r.text(row, 7));
  } catch (const nlohmann::json::exception& e) {
    throw IOError(
        detail::concat("PostgresStorage: the row of trial ", t->id, " is malformed: ", e.what()));
  }
  if (!r.null(row, 8)) t->started = from_seconds(r.real(row, 8));
  if (!r.null(row, 9)) t->completed = from_seconds(r.real(row, 9));
  return {t, r.integer(row, 10)};
}

StudyInfo study_from_row(const Result& r, int row) {
  StudyInfo info;
  info.id = r.integer(row, 0);
  info.name = r.text(row, 1);
  try {
    info.directions = parse_directions(r.text(row, 2));
    info.user_attrs = nlohmann::json::parse(r.text(row, 3));
    info.system_attrs = nlohmann::json::parse(r.text(row, 4));
  } catch (const nlohmann::json::exception& e) {
    throw IOError(
        detail::concat("PostgresStorage: the row of study ", info.id, " is malformed: ", e.what()));
  }
  return info;
}

// A pause before attempt `attempt` + 1: random, so that colliding workers spread apart.
void back_off(int attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  const double most_ms = std::min(1000.0, 2.0 * std::pow(2.0, attempt));
  std::uniform_real_distribution<double> ms(most_ms / 2, most_ms);
  std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms(rng)));
}

}  // namespace

struct PostgresStorage::Impl {
  // statement: one statement that commits by itself and may run twice (a read, a heartbeat), so
  // it is simply repeated after a lost connection. transaction: BEGIN ... COMMIT, so that a
  // connection lost before COMMIT certainly changed nothing and the call can run again.
  enum class Mode { statement, transaction };

  std::string url;
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<Connection>> idle;
  // Note [change counter]; held while fetching, so that fetches merge in order.
  struct StudyCache {
    int64_t seen = 0;
    std::vector<TrialPtr> by_number;
  };
  std::mutex cache_mutex;
  std::unordered_map<int64_t, StudyCache> caches;
  std::unordered_map<int64_t, TrialPtr> finished;  // by trial id

  std::unique_ptr<Connection> acquire(const char* what, bool after_loss) {
    {
      std::lock_guard lock(pool_mutex);
      if (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        return c;
      }
    }
    auto c = std::make_unique<Connection>(url);
    NABLA_CHECK(
        c->ok(), IOError, what, ": ",
        after_loss ? "lost the connection and could not reconnect to " : "cannot connect to ",
        c->describe(), ": ", c->error());
    try {
      // Exact doubles on every server version; text as UTF-8 whatever the server's default.
      c->script("SET extra_float_digits = 3; SET client_encoding = 'UTF8'");
    } catch (const PgFailure& e) {
      throw IOError(detail::concat(what, ": cannot set up the connection to ", c->describe(), ": ",
                                   e.what()));
    }
    return c;
  }

  void release(std::unique_ptr<Connection> c) {
    std::lock_guard lock(pool_mutex);
    idle.push_back(std::move(c));
  }

  // Runs `body` as one transaction, again after a serialization failure or deadlock, and once
  // more on a fresh connection after a lost one.
  void run(const char* what, Mode mode, const std::function<void(Connection&)>& body) {
    bool reconnected = false;
    for (int attempt = 1;; ++attempt) {
      std::unique_ptr<Connection> c = acquire(what, reconnected);
      bool committing = false;
      try {
        if (mode == Mode::transaction) c->exec("BEGIN ISOLATION LEVEL READ COMMITTED");
        body(*c);
        committing = true;
        if (mode == Mode::transaction) c->exec("COMMIT");
        release(std::move(c));
        return;
      } catch (const PgFailure& e) {
        if (e.connection_lost()) {
          const std::string where = c->describe();
          {
            // The pooled siblings of a lost connection most likely went with it.
            std::lock_guard lock(pool_mutex);
            idle.clear();
          }
          NABLA_CHECK(!(committing && mode == Mode::transaction), IOError, what,
                      ": lost the connection to ", where,
                      " while committing, so the change may or may not have been made: ", e.what());
          NABLA_CHECK(!reconnected, IOError, what, ": lost the connection to ", where,
                      " again after reconnecting: ", e.what());
          reconnected = true;
          continue;
        }
        if (roll_back(*c, mode)) release(std::move(c));
        if (e.retryable() && attempt < kMaxAttempts) {
          back_off(attempt);
          continue;
        }
        NABLA_CHECK(!e.retryable(), IOError, what, ": gave up after ", kMaxAttempts,
                    " attempts: ", e.what());
        throw IOError(detail::concat(what, ": ", e.what()));
      } catch (...) {
        if (roll_back(*c, mode)) release(std::move(c));
        throw;
      }
    }
  }

  // False when the connection is no longer fit for the pool.
  static bool roll_back(Connection& c, Mode mode) {
    if (!c.ok()) return false;
    if (mode == Mode::statement) return true;
    try {
      c.exec("ROLLBACK");
      return true;
    } catch (const PgFailure&) {
      return false;
    }
  }

  void create_schema() {
    run("PostgresStorage", Mode::transaction, [&](Connection& c) {
      c.exec("SELECT pg_advisory_xact_lock($1)", {str(kSchemaLockKey)});
      if (c.exec("SELECT to_regclass('hpo_schema_version') IS NULL").boolean(0, 0)) {
        c.script(kSchema);
        c.exec("INSERT INTO hpo_schema_version VALUES ($1)", {str(int64_t{kSchemaVersion})});
      }
      Result r = c.exec("SELECT version FROM hpo_schema_version");
      NABLA_CHECK(r.rows() == 1 && r.integer(0, 0) == kSchemaVersion, IOError,
                  "PostgresStorage: the database holds hpo schema version ",
                  r.rows() == 1 ? r.text(0, 0) : "(none)", ", but this build reads version ",
                  kSchemaVersion);
    });
  }

  // Read-modify-write of one JSON column of an unfinished trial, under its study's lock.
  void edit_trial_json(int64_t trial_id, const char* what, const std::string& column,
                       const std::function<void(nlohmann::json&)>& edit) {
    run(what, Mode::transaction, [&](Connection& c) {
      Result lock = c.exec(kLockStudyOfTrial, {str(trial_id)});
      NABLA_CHECK(lock.rows() == 1, ValueError, what, ": no trial with id ", trial_id);
      Result r = c.exec("SELECT state, number, " + column + " FROM hpo_trials WHERE trial_id = $1",
                        {str(trial_id)});
      const TrialState state = trial_state_from_name(r.text(0, 0));
      NABLA_CHECK(!is_finished(state), ValueError, what, ": trial ", r.text(0, 1), " is already ",
                  name(state));
      nlohmann::json j = nlohmann::json::parse(r.text(0, 2));
      edit(j);
      c.exec("UPDATE hpo_trials SET " + column + " = $2, change_seq = $3 WHERE trial_id = $1",
             {str(trial_id), j.dump(), lock.text(0, 0)});
    });
  }

  void edit_study_json(int64_t study_id, const char* what, const std::string& column,
                       const std::string& key, const nlohmann::json& value) {
    run(what, Mode::transaction, [&](Connection& c) {
      Result r = c.exec("SELECT " + column + " FROM hpo_studies WHERE study_id = $1 FOR UPDATE",
                        {str(study_id)});
      NABLA_CHECK(r.rows() == 1, ValueError, what, ": no study with id ", study_id);
      nlohmann::json j = nlohmann::json::parse(r.text(0, 0));
      j[key] = value;
      c.exec("UPDATE hpo_studies SET " + column + " = $2 WHERE study_id = $1",
             {str(study_id), j.dump()});
    });
  }

  // With cache_mutex held: the study's cached trials, brought up to date with the rows changed
  // since they were read.
  const std::vector<TrialPtr>& refresh(Connection& c, int64_t study_id, const char* what) {
    StudyCache& cache = caches[study_id];
    // The study row comes back even without changes, so that an unknown id is told apart.
    Result r = c.exec(std::string("SELECT ") + kTrialColumns +
                          " FROM hpo_studies AS s LEFT JOIN hpo_trials AS t ON t.study_id = "
                          "s.study_id AND t.change_seq > $2 WHERE s.study_id = $1",
                      {str(study_id), str(cache.seen)});
    NABLA_CHECK(r.rows() > 0, ValueError, what, ": no study with id ", study_id);
    for (int i = 0; i < r.rows(); ++i) {
      if (r.null(i, 0)) continue;
      TrialRow row = trial_from_row(r, i);
      const auto number = static_cast<size_t>(row.trial->number);
      if (number >= cache.by_number.size()) cache.by_number.resize(number + 1);
      cache.by_number[number] = row.trial;
      if (is_finished(row.trial->state)) finished[row.trial->id] = row.trial;
      cache.seen = std::max(cache.seen, row.change_seq);
    }
    // Every snapshot holds a prefix of the study's trials (Note [change counter]).
    for (const auto& t : cache.by_number) NABLA_ASSERT(t);
    return cache.by_number;
  }

  TrialPtr remember(const TrialRow& row) {
    if (is_finished(row.trial->state)) {
      std::lock_guard lock(cache_mutex);
      finished[row.trial->id] = row.trial;
    }
    return row.trial;
  }
};

PostgresStorage::PostgresStorage(const std::string& url) : impl_(std::make_unique<Impl>()) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  const bool parsed = options != nullptr;
  const std::string message = trimmed(error);
  PQfreemem(error);
  PQconninfoFree(options);
  NABLA_CHECK(parsed, ValueError, "PostgresStorage: malformed connection string: ", message);
  impl_->url = url;
  impl_->create_schema();
}

PostgresStorage::~PostgresStorage() = default;

int64_t PostgresStorage::create_study(const std::string& study_name,
                                      const std::vector<Direction>& directions) {
  int64_t id = -1;
  impl_->run("PostgresStorage::create_study", Impl::Mode::transaction, [&](Connection& c) {
    Result r = c.exec(
        "INSERT INTO hpo_studies (name, directions) VALUES ($1, $2) "
        "ON CONFLICT (name) DO NOTHING RETURNING study_id",
        {study_name, directions_text(directions)});
    NABLA_CHECK(r.rows() == 1, ValueError, "create_study: a study named '", study_name,
                "' exists already (load it, or pass load_if_exists)");
    id = r.integer(0, 0);
  });
  return id;
}

std::optional<int64_t> PostgresStorage::find_study(const std::string& study_name) {
  std::optional<int64_t> id;
  impl_->run("PostgresStorage::find_study", Impl::Mode::statement, [&](Connection& c) {
    Result r = c.exec("SELECT study_id FROM hpo_studies WHERE name = $1", {study_name});
    id = r.rows() == 1 ? std::optional(r.integer(0, 0)) : std::nullopt;
  });
  return id;
}

StudyInfo PostgresStorage::study(int64_t study_id) {
  StudyInfo info;
  impl_->run("PostgresStorage::study", Impl::Mode::statement, [&](Connection& c) {
    Result r = c.exec(
        "SELECT study_id, name, directions, user_attrs, system_attrs FROM hpo_studies "
        "WHERE study_id = $1",
        {str(study_id)});
    NABLA_CHECK(r.rows() == 1, ValueError, "PostgresStorage::study: no study with id ", study_id);
    info = study_from_row(r, 0);
  });
  return info;
}

std::vector<StudyInfo> PostgresStorage::studies() {
  std::vector<StudyInfo> out;
  impl_->run("PostgresStorage::studies", Impl::Mode::statement, [&](Connection& c) {
    Result r = c.exec(
        "SELECT study_id, name, directions, user_attrs, system_attrs FROM hpo_studies "
        "ORDER BY study_id");
    out.clear();
    for (int i = 0; i < r.rows(); ++i) out.push_back(study_from_row(r, i));
  });
  return out;
}

void PostgresStorage::set_study_user_attr(int64_t study_id, const std::string& key,
                                          const nlohmann::json& value) {
  impl_->edit_study_json(study_id, "PostgresStorage::set_study_user_attr", "user_attrs", key,
                         value);
}

void PostgresStorage::set_study_system_attr(int64_t study_id, const std::string& key,
                                            const nlohmann::json& value) {
  impl_->edit_study_json(study_id, "PostgresStorage::set_study_system_attr", "system_attrs", key,
                         value);
}

TrialPtr PostgresStorage::create_trial(int64_t study_id, const TrialTemplate& t) {
  return create_trial_unless(study_id, t, {});
}

TrialPtr PostgresStorage::create_trial_unless(int64_t study_id, const TrialTemplate& t,
                                              const StopCheck& stop) {
  NABLA_CHECK(t.state == TrialState::running || t.state == TrialState::waiting, ValueError,
              "PostgresStorage::create_trial: a new trial is running or waiting, not ",
              name(t.state));
  // cache_mutex before the study's lock, as trials() takes them; no holder of the study's lock
  // waits for cache_mutex.
  std::unique_lock<std::mutex> cache_lock;
  if (stop) cache_lock = std::unique_lock(impl_->cache_mutex);
  TrialRow row;
  impl_->run("PostgresStorage::create_trial", Impl::Mode::transaction, [&](Connection& c) {
    row = {};
    if (stop) {
      // Under the study's lock no other trial is created until COMMIT (Note [change counter]).
      Result lock = c.exec(kLockStudy, {str(study_id)});
      NABLA_CHECK(lock.rows() == 1, ValueError, "PostgresStorage::create_trial: no study with id ",
                  study_id);
      if (stop(impl_->refresh(c, study_id, "PostgresStorage::create_trial"))) return;
    }
    // One statement: the study's lock, its next number and counter value, and the new row.
    Result r = c.exec(std::string("WITH s AS (UPDATE hpo_studies SET trial_count = trial_count + "
                                  "1, change_seq = change_seq + 1 WHERE study_id = $1 "
                                  "RETURNING trial_count - 1 AS number, change_seq) "
                                  "INSERT INTO hpo_trials AS t (study_id, number, state, "
                                  "user_attrs, system_attrs, started, heartbeat, change_seq) "
                                  "SELECT $1::bigint, s.number, $2, $3, $4, CASE WHEN $2 = "
                                  "'running' THEN now() END, now(), s.change_seq FROM s "
                                  "RETURNING ") +
                          kTrialColumns,
                      {str(study_id), name(t.state), t.user_attrs.dump(), t.system_attrs.dump()});
    NABLA_CHECK(r.rows() == 1, ValueError, "PostgresStorage::create_trial: no study with id ",
                study_id);
    row = trial_from_row(r, 0);
  });
  return row.trial;
}

TrialPtr PostgresStorage::claim_waiting_trial(int64_t study_id) {
  // Most calls find nothing waiting: a plain read answers those without taking the study's lock.
  bool waiting = false;
  impl_->run("PostgresStorage::claim_waiting_trial", Impl::Mode::statement, [&](Connection& c) {
    Result r = c.exec(
        "SELECT EXISTS (SELECT 1 FROM hpo_studies WHERE study_id = $1), EXISTS (SELECT 1 FROM "
        "hpo_trials WHERE study_id = $1 AND state = 'waiting')",
        {str(study_id)});
    NABLA_CHECK(r.boolean(0, 0), ValueError,
                "PostgresStorage::claim_waiting_trial: no study with id ", study_id);
    waiting = r.boolean(0, 1);
  });
  if (!waiting) return nullptr;
  TrialPtr claimed;
  impl_->run("PostgresStorage::claim_waiting_trial", Impl::Mode::transaction, [&](Connection& c) {
    Result lock = c.exec(kLockStudy, {str(study_id)});
    NABLA_CHECK(lock.rows() == 1, ValueError,
                "PostgresStorage::claim_waiting_trial: no study with id ", study_id);
    // Under the study's lock claims take turns; SKIP LOCKED keeps one from waiting behind a row
    // that some other statement holds (a heartbeat, an administrator's UPDATE).
    Result r = c.exec(std::string("WITH w AS (SELECT trial_id AS claimed FROM hpo_trials WHERE "
                                  "study_id = $1 AND state = 'waiting' ORDER BY number LIMIT 1 "
                                  "FOR UPDATE SKIP LOCKED) "
                                  "UPDATE hpo_trials AS t SET state = 'running', started = "
                                  "now(), heartbeat = now(), change_seq = $2 FROM w WHERE "
                                  "t.trial_id = w.claimed RETURNING ") +
                          kTrialColumns,
                      {str(study_id), lock.text(0, 0)});
    claimed = r.rows() == 1 ? trial_from_row(r, 0).trial : nullptr;
  });
  return claimed;
}

void PostgresStorage::set_trial_param(int64_t trial_id, const std::string& param,
                                      const ParamValue& value, const Distribution& d) {
  impl_->edit_trial_json(
      trial_id, "PostgresStorage::set_trial_param", "params", [&](nlohmann::json& params) {
        params[param] = {{"value", to_json(value)}, {"distribution", to_json(d)}};
      });
}

void PostgresStorage::set_trial_intermediate_value(int64_t trial_id, int64_t step,
                                                   const std::vector<double>& values) {
  nlohmann::json encoded = nlohmann::json::array();
  for (double v : values) encoded.push_back(number_json(v));
  impl_->edit_trial_json(trial_id, "PostgresStorage::set_trial_intermediate_value",
                         "intermediate_values",
                         [&](nlohmann::json& reports) { reports[std::to_string(step)] = encoded; });
}

void PostgresStorage::set_trial_user_attr(int64_t trial_id, const std::string& key,
                                          const nlohmann::json& value) {
  impl_->edit_trial_json(trial_id, "PostgresStorage::set_trial_user_attr", "user_attrs",
                         [&](nlohmann::json& attrs) { attrs[key] = value; });
}

void PostgresStorage::set_trial_system_attr(int64_t trial_id, const std::string& key,
                                            const nlohmann::json& value) {
  impl_->edit_trial_json(trial_id, "PostgresStorage::set_trial_system_attr", "system_attrs",
                         [&](nlohmann::json& attrs) { attrs[key] = value; });
}

bool PostgresStorage::set_trial_state_values(int64_t trial_id, TrialState state,
                                             const std::vector<double>& values) {
  const bool keeps_values = state == TrialState::complete || state == TrialState::pruned;
  bool changed = false;
  impl_->run("PostgresStorage::set_trial_state_values", Impl::Mode::transaction,
             [&](Connection& c) {
               Result lock = c.exec(kLockStudyOfTrial, {str(trial_id)});
               NABLA_CHECK(lock.rows() == 1, ValueError,
                           "PostgresStorage::set_trial_state_values: no trial with id ", trial_id);
               Result r = c.exec(
                   "UPDATE hpo_trials SET state = $2, "
                   "objective_values = CASE WHEN $3::boolean THEN $4::float8[] "
                   "ELSE objective_values END, "
                   "completed = CASE WHEN $5::boolean THEN now() ELSE completed END, "
                   "started = CASE WHEN $2 = 'running' THEN coalesce(started, now()) "
                   "ELSE started END, "
                   "heartbeat = CASE WHEN $2 = 'running' THEN now() ELSE heartbeat END, "
                   "change_seq = $6 "
                   "WHERE trial_id = $1 AND state IN ('running', 'waiting') RETURNING 1",
                   {str(trial_id), name(state), keeps_values ? "true" : "false",
                    float_array(values), is_finished(state) ? "true" : "false", lock.text(0, 0)});
               changed = r.rows() == 1;
             });
  return changed;
}

TrialPtr PostgresStorage::trial(int64_t trial_id) {
  {
    std::lock_guard lock(impl_->cache_mutex);
    if (auto it = impl_->finished.find(trial_id); it != impl_->finished.end()) return it->second;
  }
  TrialRow row;
  impl_->run("PostgresStorage::trial", Impl::Mode::statement, [&](Connection& c) {
    Result r = c.exec(
        std::string("SELECT ") + kTrialColumns + " FROM hpo_trials AS t WHERE t.trial_id = $1",
        {str(trial_id)});
    NABLA_CHECK(r.rows() == 1, ValueError, "PostgresStorage::trial: no trial with id ", trial_id);
    row = trial_from_row(r, 0);
  });
  return impl_->remember(row);
}

std::vector<TrialPtr> PostgresStorage::trials(int64_t study_id) {
  std::lock_guard lock(impl_->cache_mutex);
  std::vector<TrialPtr> out;
  impl_->run("PostgresStorage::trials", Impl::Mode::statement,
             [&](Connection& c) { out = impl_->refresh(c, study_id, "PostgresStorage::trials"); });
  return out;
}

void PostgresStorage::record_heartbeat(int64_t trial_id) {
  impl_->run("PostgresStorage::record_heartbeat", Impl::Mode::statement, [&](Connection& c) {
    Result r = c.exec("UPDATE hpo_trials SET heartbeat = now() WHERE trial_id = $1 RETURNING 1",
                      {str(trial_id)});
    NABLA_CHECK(r.rows() == 1, ValueError, "PostgresStorage::record_heartbeat: no trial with id ",
                trial_id);
  });
}

std::vector<TrialPtr> PostgresStorage::fail_stale_trials(int64_t study_id, double grace_seconds) {
  // Note [heartbeat] in storage.h: the beats and the present moment both come from the server.
  const std::string stale =
      "t.study_id = $1 AND t.state = 'running' AND "
      "t.heartbeat < clock_timestamp() - make_interval(secs => $2::float8)";
  // Most calls find nothing stale: a plain read answers those without taking the study's lock.
  bool any = false;
  impl_->run("PostgresStorage::fail_stale_trials", Impl::Mode::statement, [&](Connection& c) {
    Result r = c.exec(
        "SELECT EXISTS (SELECT 1 FROM hpo_studies WHERE study_id = $1), "
        "EXISTS (SELECT 1 FROM hpo_trials AS t WHERE " +
            stale + ")",
        {str(study_id), str(grace_seconds)});
    NABLA_CHECK(r.boolean(0, 0), ValueError,
                "PostgresStorage::fail_stale_trials: no study with id ", study_id);
    any = r.boolean(0, 1);
  });
  if (!any) return {};
  const std::string reason = "no heartbeat for more than " + std::to_string(grace_seconds) + " s";
  std::vector<TrialPtr> failed;
  impl_->run("PostgresStorage::fail_stale_trials", Impl::Mode::transaction, [&](Connection& c) {
    failed.clear();
    Result lock = c.exec(kLockStudy, {str(study_id)});
    NABLA_CHECK(lock.rows() == 1, ValueError,
                "PostgresStorage::fail_stale_trials: no study with id ", study_id);
    // The UPDATE claims the stale trials: a worker looking at the same moment finds them failed.
    Result r = c.exec(
        "UPDATE hpo_trials AS t SET state = 'failed', completed = now(), "
        "change_seq = $3 WHERE " +
            stale + " RETURNING " + kTrialColumns,
        {str(study_id), str(grace_seconds), lock.text(0, 0)});
    for (int i = 0; i < r.rows(); ++i) {
      auto t = std::make_shared<FrozenTrial>(*trial_from_row(r, i).trial);
      t->system_attrs["fail_reason"] = reason;
      c.exec("UPDATE hpo_trials SET system_attrs = $2 WHERE trial_id = $1",
             {str(t->id), t->system_attrs.dump()});
      failed.push_back(std::move(t));
    }
  });
  for (const auto& t : failed) impl_->remember({t, 0});
  return failed;
}

}  // namespace nabla::hpo
