// The SQLite storage: its schema, transactions retried while the database is busy, and the cache
// that keeps trials() cheap as a study grows.
#include "hpo/sqlite_storage.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>
#include <string_view>
#include <thread>
#include <type_traits>

#include "core/error.h"

namespace nabla::hpo {

namespace {

constexpr int64_t kSchemaVersion = 1;

// Note [schema]: one row per study and per trial, and one per parameter, report and attribute, so
// that every setter writes one small row. Objective values are text (encode_values); parameter
// values, distributions and attributes are JSON; times are seconds since the epoch by the
// database's clock (Connection::now). `seq` is Note [change counter]'s.
constexpr const char* kSchema = R"sql(
CREATE TABLE hpo_schema (version INTEGER NOT NULL);
CREATE TABLE studies (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  directions TEXT NOT NULL,
  next_number INTEGER NOT NULL DEFAULT 0,
  seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE study_attrs (
  study_id INTEGER NOT NULL REFERENCES studies (id),
  kind TEXT NOT NULL CHECK (kind IN ('user', 'system')),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (study_id, kind, key)
) WITHOUT ROWID;
CREATE TABLE trials (
  id INTEGER PRIMARY KEY,
  study_id INTEGER NOT NULL REFERENCES studies (id),
  number INTEGER NOT NULL,
  state TEXT NOT NULL,
  objective_values TEXT NOT NULL DEFAULT '',
  started REAL,
  completed REAL,
  heartbeat REAL,
  seq INTEGER NOT NULL,
  UNIQUE (study_id, number)
);
CREATE INDEX trials_by_seq ON trials (study_id, seq);
CREATE INDEX trials_by_state ON trials (study_id, state, number);
CREATE TABLE trial_params (
  trial_id INTEGER NOT NULL REFERENCES trials (id),
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  distribution TEXT NOT NULL,
  PRIMARY KEY (trial_id, name)
) WITHOUT ROWID;
CREATE TABLE trial_intermediate_values (
  trial_id INTEGER NOT NULL REFERENCES trials (id),
  step INTEGER NOT NULL,
  objective_values TEXT NOT NULL,
  PRIMARY KEY (trial_id, step)
) WITHOUT ROWID;
CREATE TABLE trial_attrs (
  trial_id INTEGER NOT NULL REFERENCES trials (id),
  kind TEXT NOT NULL CHECK (kind IN ('user', 'system')),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (trial_id, kind, key)
) WITHOUT ROWID;
)sql";

// Note [change counter]: each study row carries `seq`, which every change to one of its trials
// bumps in the same transaction; the changed trial row takes the new value as its own `seq`.
// Write transactions are serialized by the database's lock, so commit order is seq order, and a
// read transaction sees a prefix of the commits: the study's seq S and the trials with seq in
// (cached, S], read in one transaction, are exactly the trials changed since the cache was filled.
// Finished trials never change again, so once a study is cached, trials() costs one indexed
// lookup plus the trials changed since, whatever the study's size. Heartbeats are not part of a
// trial as FrozenTrial shows it, and are not changes.

// What the wrappers below throw; Connection::retrying retries the busy ones and turns the others
// into an IOError naming the method and the file.
struct SqliteFailure {
  int code = 0;
  std::string message;
};

bool is_busy(int code) {
  const int primary = code & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

// Objective values as text: shortest round-trip decimals separated by commas, "" for none. Unlike
// JSON it keeps NaN and the infinities, which reports may carry.
std::string encode_values(const std::vector<double>& values) {
  std::string out;
  char buffer[32];
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, values[i]).ptr);
  }
  return out;
}

std::optional<std::vector<double>> decode_values(std::string_view text) {
  std::vector<double> values;
  if (text.empty()) return values;
  for (;;) {
    const size_t comma = std::min(text.find(','), text.size());
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + comma, v);
    if (ec != std::errc() || end != text.data() + comma) return std::nullopt;
    values.push_back(v);
    if (comma == text.size()) return values;
    text.remove_prefix(comma + 1);
  }
}

std::string dump_value(const nlohmann::json& value, const char* what, const std::string& key) {
  try {
    return value.dump();
  } catch (const nlohmann::json::exception& e) {
    throw ValueError(detail::concat("SqliteStorage::", what, ": the value of '", key,
                                    "' cannot be stored as JSON: ", e.what()));
  }
}

// A prepared statement in use: bound when made, reset (bindings cleared) when it goes out of scope.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Query(Query&& other) noexcept : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query& operator=(Query&&) = delete;
  ~Query() {
    if (!stmt_) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  template <class T>
  void bind(int i, const T& v) {
    int rc;
    if constexpr (std::is_same_v<T, std::nullptr_t>)
      rc = sqlite3_bind_null(stmt_, i);
    else if constexpr (std::is_same_v<T, std::optional<double>>)
      rc = v ? sqlite3_bind_double(stmt_, i, *v) : sqlite3_bind_null(stmt_, i);
    else if constexpr (std::is_integral_v<T>)
      rc = sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(v));
    else if constexpr (std::is_floating_point_v<T>)
      rc = sqlite3_bind_double(stmt_, i, static_cast<double>(v));
    else {
      const std::string_view s(v);
      rc = sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
    if (rc != SQLITE_OK) fail(rc);
  }

  // True while there is a row.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(rc);
  }

  int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::optional<double> optional_real(int column) const {
    if (is_null(column)) return std::nullopt;
    return real(column);
  }
  std::string text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
  }

 private:
  [[noreturn]] void fail(int rc) {
    throw SqliteFailure{rc, detail::concat(sqlite3_errmsg(db_), " (in: ", sqlite3_sql(stmt_), ")")};
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// The SQL that reads trials with all their rows, for one filter on `trials t`.
struct TrialQueries {
  explicit TrialQueries(const std::string& where)
      : trials(
            "SELECT t.id, t.number, t.state, t.objective_values, t.started, t.completed "
            "FROM trials t" +
            where + " ORDER BY t.number"),
        params(
            "SELECT x.trial_id, x.name, x.value, x.distribution FROM trial_params x "
            "JOIN trials t ON t.id = x.trial_id" +
            where),
        reports(
            "SELECT x.trial_id, x.step, x.objective_values FROM trial_intermediate_values x "
            "JOIN trials t ON t.id = x.trial_id" +
            where),
        attrs(
            "SELECT x.trial_id, x.kind, x.key, x.value FROM trial_attrs x "
            "JOIN trials t ON t.id = x.trial_id" +
            where) {}
  std::string trials, params, reports, attrs;
};

// ?1 = study id, ?2 = the seq after which changes are read (Note [change counter]).
const TrialQueries& changed_trials() {
  static const TrialQueries queries(" WHERE t.study_id = ?1 AND t.seq > ?2");
  return queries;
}

// ?1 = trial id.
const TrialQueries& one_trial() {
  static const TrialQueries queries(" WHERE t.id = ?1");
  return queries;
}

enum class Lock { read, write };

}  // namespace

class SqliteStorage::Connection {
 public:
  Connection(std::string path, double lock_timeout)
      : path_(std::move(path)), lock_timeout_(lock_timeout), jitter_(std::random_device()()) {
    NABLA_CHECK(!path_.empty() && path_ != ":memory:", ValueError,
                "SqliteStorage: needs a file path, got '", path_,
                "' (InMemoryStorage keeps a study in memory)");
    NABLA_CHECK(lock_timeout_ >= 0, ValueError, "SqliteStorage: lock_timeout must be >= 0, got ",
                lock_timeout_);
    const int rc =
        sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
      const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close_v2(db_);
      throw IOError(detail::concat("SqliteStorage: cannot open '", path_, "': ", message));
    }
    sqlite3_extended_result_codes(db_, 1);
    // SQLite's own wait covers short locks; retrying() takes over past it, with jitter, so that
    // waiting connections do not wake in step.
    sqlite3_busy_timeout(db_, 100);
  }

  ~Connection() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  // WAL, so that readers never wait for the writer; FULL sync, so that a commit survives a power
  // loss; then the schema, created in an empty file and checked in any other.
  void open() {
    retrying("open", [&] {
      Query q = query("PRAGMA journal_mode = WAL");
      const std::string mode = q.step() ? q.text(0) : "";
      NABLA_CHECK(mode == "wal", IOError, "SqliteStorage: '", path_,
                  "' cannot use write-ahead logging (journal mode '", mode, "')");
    });
    retrying("open", [&] {
      exec("PRAGMA synchronous = FULL");
      exec("PRAGMA foreign_keys = ON");
    });
    transaction("open", Lock::write, [&] {
      bool versioned = false;
      int64_t others = 0;
      {
        Query tables = query("SELECT name FROM sqlite_schema WHERE type = 'table'");
        while (tables.step()) {
          if (tables.text(0) == "hpo_schema")
            versioned = true;
          else
            ++others;
        }
      }
      if (!versioned) {
        NABLA_CHECK(others == 0, ValueError, "SqliteStorage: '", path_,
                    "' is an SQLite database of something else (", others,
                    " tables, no hpo_schema); give studies a file of their own");
        char* error = nullptr;
        if (sqlite3_exec(db_, kSchema, nullptr, nullptr, &error) != SQLITE_OK) {
          SqliteFailure failure{sqlite3_extended_errcode(db_), error ? error : ""};
          sqlite3_free(error);
          throw failure;
        }
        query("INSERT INTO hpo_schema (version) VALUES (?1)", kSchemaVersion).step();
        return;
      }
      Query version = query("SELECT version FROM hpo_schema");
      NABLA_CHECK(version.step(), ValueError, "SqliteStorage: '", path_,
                  "' has an empty hpo_schema table; it is not a storage this nabla wrote");
      NABLA_CHECK(version.int64(0) == kSchemaVersion, ValueError, "SqliteStorage: '", path_,
                  "' has storage schema version ", version.int64(0), "; this nabla reads version ",
                  kSchemaVersion);
    });
  }

  // A cached prepared statement with `args` bound to ?1, ?2, ... `sql` must outlive the
  // connection (a literal, or one of the static TrialQueries).
  template <class... Args>
  Query query(const char* sql, const Args&... args) {
    sqlite3_stmt*& stmt = statements_[sql];
    if (!stmt) {
      const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) {
        stmt = nullptr;
        throw SqliteFailure{rc, detail::concat(sqlite3_errmsg(db_), " (in: ", sql, ")")};
      }
    }
    NABLA_ASSERT(!sqlite3_stmt_busy(stmt));
    Query q(db_, stmt);
    int i = 0;
    (q.bind(++i, args), ...);
    return q;
  }

  void exec(const char* sql) {
    Query q = query(sql);
    while (q.step()) {
    }
  }

  // Runs `attempt` until it gets past a busy database, sleeping between tries with exponential
  // backoff and jitter, for at most lock_timeout_ seconds.
  template <class F>
  auto retrying(const char* what, F&& attempt) -> decltype(attempt()) {
    const auto start = std::chrono::steady_clock::now();
    double delay = 0.001;
    for (;;) {
      try {
        return attempt();
      } catch (const SqliteFailure& failure) {
        NABLA_CHECK(is_busy(failure.code), IOError, "SqliteStorage::", what, ": '", path_,
                    "': ", failure.message);
        const double waited =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        NABLA_CHECK(waited < lock_timeout_, IOError, "SqliteStorage::", what, ": '", path_,
                    "' stayed locked by other connections for more than ", lock_timeout_, " s (",
                    failure.message, ")");
        std::uniform_real_distribution<double> fraction(0.5, 1.0);
        std::this_thread::sleep_for(std::chrono::duration<double>(delay * fraction(jitter_)));
        delay = std::min(2 * delay, 0.1);
      }
    }
  }

  // `body` in one transaction, retried whole while the database is busy: it must change nothing
  // outside the database.
  template <class F>
  auto transaction(const char* what, Lock lock, F&& body) -> decltype(body()) {
    return retrying(what, [&]() -> decltype(body()) {
      exec(lock == Lock::write ? "BEGIN IMMEDIATE" : "BEGIN");
      try {
        if constexpr (std::is_void_v<decltype(body())>) {
          body();
          exec("COMMIT");
        } else {
          auto result = body();
          exec("COMMIT");
          return result;
        }
      } catch (...) {
        if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    });
  }

  // Note [heartbeat] wants one clock for all workers: SQLite's 'now' (the host's clock, which
  // every process sharing the file reads) in seconds since the epoch.
  double now() {
    Query q = query("SELECT (julianday('now') - 2440587.5) * 86400.0");
    q.step();
    return q.real(0);
  }

  void require_study(int64_t study_id, const char* what) {
    NABLA_CHECK(query("SELECT 1 FROM studies WHERE id = ?1", study_id).step(), ValueError,
                "SqliteStorage::", what, ": no study with id ", study_id);
  }

  // Marks a change to one of the study's trials (Note [change counter]); returns the new seq.
  int64_t bump(int64_t study_id) {
    Query q = query("UPDATE studies SET seq = seq + 1 WHERE id = ?1 RETURNING seq", study_id);
    NABLA_ASSERT(q.step());
    return q.int64(0);
  }

  // Checks that the trial exists and is unfinished, and marks it changed.
  void touch_unfinished(int64_t trial_id, const char* what) {
    int64_t study_id = -1;
    {
      Query q = query("SELECT study_id, number, state FROM trials WHERE id = ?1", trial_id);
      NABLA_CHECK(q.step(), ValueError, "SqliteStorage::", what, ": no trial with id ", trial_id);
      const TrialState state = trial_state_from_name(q.text(2));
      NABLA_CHECK(!is_finished(state), ValueError, "SqliteStorage::", what, ": trial ", q.int64(1),
                  " is already ", name(state));
      study_id = q.int64(0);
    }
    query("UPDATE trials SET seq = ?2 WHERE id = ?1", trial_id, bump(study_id)).step();
  }

  void insert_trial_attrs(int64_t trial_id, const char* kind, const nlohmann::json& attrs,
                          const char* what) {
    NABLA_CHECK(attrs.is_object(), ValueError, "SqliteStorage::", what, ": ", kind,
                " attributes must be a JSON object, got ", attrs.dump());
    for (const auto& [key, value] : attrs.items())
      query(
          "INSERT OR REPLACE INTO trial_attrs (trial_id, kind, key, value) "
          "VALUES (?1, ?2, ?3, ?4)",
          trial_id, kind, key, dump_value(value, what, key))
          .step();
  }

  nlohmann::json parse(const std::string& text, const char* what) {
    try {
      return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw IOError(detail::concat("SqliteStorage::", what, ": '", path_,
                                   "' holds a malformed JSON value '", text, "': ", e.what()));
    }
  }

  std::vector<double> values(const std::string& text, const char* what) {
    auto v = decode_values(text);
    NABLA_CHECK(v, IOError, "SqliteStorage::", what, ": '", path_,
                "' holds malformed objective values '", text, "'");
    return *v;
  }

  StudyInfo study_info(int64_t study_id, const char* what) {
    StudyInfo info;
    {
      Query q = query("SELECT name, directions FROM studies WHERE id = ?1", study_id);
      NABLA_CHECK(q.step(), ValueError, "SqliteStorage::", what, ": no study with id ", study_id);
      info.id = study_id;
      info.name = q.text(0);
      for (const auto& d : parse(q.text(1), what))
        info.directions.push_back(direction_from_name(d.get<std::string>()));
    }
    Query attrs = query("SELECT kind, key, value FROM study_attrs WHERE study_id = ?1", study_id);
    while (attrs.step())
      (attrs.text(0) == "user" ? info.user_attrs : info.system_attrs)[attrs.text(1)] =
          parse(attrs.text(2), what);
    return info;
  }

  // The trials `queries` select with `args`, in number order, each with all its rows.
  template <class... Args>
  std::vector<std::shared_ptr<FrozenTrial>> load_trials(const TrialQueries& queries,
                                                        const char* what, const Args&... args) {
    std::vector<std::shared_ptr<FrozenTrial>> out;
    std::unordered_map<int64_t, FrozenTrial*> by_id;
    {
      Query q = query(queries.trials.c_str(), args...);
      while (q.step()) {
        auto t = std::make_shared<FrozenTrial>();
        t->id = q.int64(0);
        t->number = q.int64(1);
        t->state = trial_state_from_name(q.text(2));
        t->values = values(q.text(3), what);
        if (auto s = q.optional_real(4)) t->started = from_seconds(*s);
        if (auto s = q.optional_real(5)) t->completed = from_seconds(*s);
        by_id[t->id] = t.get();
        out.push_back(std::move(t));
      }
    }
    if (out.empty()) return out;
    {
      Query q = query(queries.params.c_str(), args...);
      while (q.step()) {
        FrozenTrial& t = *by_id.at(q.int64(0));
        const std::string param = q.text(1);
        try {
          t.params[param] = param_value_from_json(parse(q.text(2), what));
          t.distributions[param] = distribution_from_json(parse(q.text(3), what));
        } catch (const ValueError& e) {
          throw IOError(detail::concat("SqliteStorage::", what, ": '", path_,
                                       "' holds a malformed parameter '", param, "': ", e.what()));
        }
      }
    }
    {
      Query q = query(queries.reports.c_str(), args...);
      while (q.step())
        by_id.at(q.int64(0))->intermediate_values[q.int64(1)] = values(q.text(2), what);
    }
    Query q = query(queries.attrs.c_str(), args...);
    while (q.step()) {
      FrozenTrial& t = *by_id.at(q.int64(0));
      (q.text(1) == "user" ? t.user_attrs : t.system_attrs)[q.text(2)] = parse(q.text(3), what);
    }
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  double lock_timeout_;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
  std::minstd_rand jitter_;
};

SqliteStorage::SqliteStorage(const std::string& path, SqliteStorageOptions options)
    : db_(std::make_unique<Connection>(path, options.lock_timeout)) {
  db_->open();
}

SqliteStorage::~SqliteStorage() = default;

void SqliteStorage::remember(const TrialPtr& t) {
  if (is_finished(t->state)) finished_.emplace(t->id, t);
}

int64_t SqliteStorage::create_study(const std::string& name,
                                    const std::vector<Direction>& directions) {
  nlohmann::json names = nlohmann::json::array();
  for (Direction d : directions) names.push_back(hpo::name(d));
  std::lock_guard lock(mutex_);
  return db_->transaction("create_study", Lock::write, [&] {
    NABLA_CHECK(!db_->query("SELECT 1 FROM studies WHERE name = ?1", name).step(), ValueError,
                "SqliteStorage::create_study: a study named '", name,
                "' exists already (load it, or pass load_if_exists)");
    Query q = db_->query("INSERT INTO studies (name, directions) VALUES (?1, ?2) RETURNING id",
                         name, names.dump());
    q.step();
    return q.int64(0);
  });
}

std::optional<int64_t> SqliteStorage::find_study(const std::string& name) {
  std::lock_guard lock(mutex_);
  return db_->transaction("find_study", Lock::read, [&]() -> std::optional<int64_t> {
    Query q = db_->query("SELECT id FROM studies WHERE name = ?1", name);
    if (!q.step()) return std::nullopt;
    return q.int64(0);
  });
}

StudyInfo SqliteStorage::study(int64_t study_id) {
  std::lock_guard lock(mutex_);
  return db_->transaction("study", Lock::read, [&] { return db_->study_info(study_id, "study"); });
}

std::vector<StudyInfo> SqliteStorage::studies() {
  std::lock_guard lock(mutex_);
  return db_->transaction("studies", Lock::read, [&] {
    std::vector<int64_t> ids;
    {
      Query q = db_->query("SELECT id FROM studies ORDER BY id");
      while (q.step()) ids.push_back(q.int64(0));
    }
    std::vector<StudyInfo> out;
    for (int64_t id : ids) out.push_back(db_->study_info(id, "studies"));
    return out;
  });
}

void SqliteStorage::set_study_user_attr(int64_t study_id, const std::string& key,
                                        const nlohmann::json& value) {
  set_study_attr(study_id, "user", key, value, "set_study_user_attr");
}

void SqliteStorage::set_study_system_attr(int64_t study_id, const std::string& key,
                                          const nlohmann::json& value) {
  set_study_attr(study_id, "system", key, value, "set_study_system_attr");
}

void SqliteStorage::set_study_attr(int64_t study_id, const char* kind, const std::string& key,
                                   const nlohmann::json& value, const char* what) {
  const std::string text = dump_value(value, what, key);
  std::lock_guard lock(mutex_);
  db_->transaction(what, Lock::write, [&] {
    db_->require_study(study_id, what);
    db_->query(
           "INSERT OR REPLACE INTO study_attrs (study_id, kind, key, value) "
           "VALUES (?1, ?2, ?3, ?4)",
           study_id, kind, key, text)
        .step();
  });
}

TrialPtr SqliteStorage::create_trial(int64_t study_id, const TrialTemplate& t) {
  return create_trial_unless(study_id, t, {});
}

TrialPtr SqliteStorage::create_trial_unless(int64_t study_id, const TrialTemplate& t,
                                            const StopCheck& stop) {
  NABLA_CHECK(t.state == TrialState::running || t.state == TrialState::waiting, ValueError,
              "SqliteStorage::create_trial: a new trial is running or waiting, not ",
              name(t.state));
  std::lock_guard lock(mutex_);
  return db_->transaction("create_trial", Lock::write, [&]() -> TrialPtr {
    // The write lock, taken up front, keeps every other connection's changes out until COMMIT.
    // Should the body run again, merging the same committed changes into the cache twice is
    // harmless.
    if (stop && stop(refresh_locked(study_id, "create_trial"))) return nullptr;
    auto trial = std::make_shared<FrozenTrial>();
    {
      Query q = db_->query(
          "UPDATE studies SET next_number = next_number + 1, seq = seq + 1 WHERE id = ?1 "
          "RETURNING next_number - 1, seq",
          study_id);
      NABLA_CHECK(q.step(), ValueError, "SqliteStorage::create_trial: no study with id ", study_id);
      trial->number = q.int64(0);
      const int64_t seq = q.int64(1);
      std::optional<double> now;
      if (t.state == TrialState::running) now = db_->now();
      Query insert = db_->query(
          "INSERT INTO trials (study_id, number, state, started, heartbeat, seq) "
          "VALUES (?1, ?2, ?3, ?4, ?4, ?5) RETURNING id",
          study_id, trial->number, name(t.state), now, seq);
      insert.step();
      trial->id = insert.int64(0);
      if (now) trial->started = from_seconds(*now);
    }
    trial->state = t.state;
    db_->insert_trial_attrs(trial->id, "user", t.user_attrs, "create_trial");
    db_->insert_trial_attrs(trial->id, "system", t.system_attrs, "create_trial");
    trial->user_attrs = t.user_attrs;
    trial->system_attrs = t.system_attrs;
    return TrialPtr(std::move(trial));
  });
}

TrialPtr SqliteStorage::claim_waiting_trial(int64_t study_id) {
  std::lock_guard lock(mutex_);
  // Most calls find nothing waiting: a read answers them without taking the write lock.
  const bool waiting = db_->transaction("claim_waiting_trial", Lock::read, [&] {
    db_->require_study(study_id, "claim_waiting_trial");
    return db_
        ->query("SELECT 1 FROM trials WHERE study_id = ?1 AND state = 'waiting' LIMIT 1", study_id)
        .step();
  });
  if (!waiting) return nullptr;
  return db_->transaction("claim_waiting_trial", Lock::write, [&]() -> TrialPtr {
    int64_t id = -1;
    {
      Query q = db_->query(
          "SELECT id FROM trials WHERE study_id = ?1 AND state = 'waiting' ORDER BY number "
          "LIMIT 1",
          study_id);
      if (!q.step()) return nullptr;  // another worker claimed it between the two transactions
      id = q.int64(0);
    }
    db_->query(
           "UPDATE trials SET state = 'running', started = ?2, heartbeat = ?2, seq = ?3 "
           "WHERE id = ?1",
           id, db_->now(), db_->bump(study_id))
        .step();
    return db_->load_trials(one_trial(), "claim_waiting_trial", id).front();
  });
}

void SqliteStorage::set_trial_param(int64_t trial_id, const std::string& param,
                                    const ParamValue& value, const Distribution& d) {
  const std::string value_text = to_json(value).dump(), distribution_text = to_json(d).dump();
  std::lock_guard lock(mutex_);
  db_->transaction("set_trial_param", Lock::write, [&] {
    db_->touch_unfinished(trial_id, "set_trial_param");
    db_->query(
           "INSERT OR REPLACE INTO trial_params (trial_id, name, value, distribution) "
           "VALUES (?1, ?2, ?3, ?4)",
           trial_id, param, value_text, distribution_text)
        .step();
  });
}

void SqliteStorage::set_trial_intermediate_value(int64_t trial_id, int64_t step,
                                                 const std::vector<double>& values) {
  const std::string text = encode_values(values);
  std::lock_guard lock(mutex_);
  db_->transaction("set_trial_intermediate_value", Lock::write, [&] {
    db_->touch_unfinished(trial_id, "set_trial_intermediate_value");
    db_->query(
           "INSERT OR REPLACE INTO trial_intermediate_values (trial_id, step, "
           "objective_values) VALUES (?1, ?2, ?3)",
           trial_id, step, text)
        .step();
  });
}

void SqliteStorage::set_trial_user_attr(int64_t trial_id, const std::string& key,
                                        const nlohmann::json& value) {
  set_trial_attr(trial_id, "user", key, value, "set_trial_user_attr");
}

void SqliteStorage::set_trial_system_attr(int64_t trial_id, const std::string& key,
                                          const nlohmann::json& value) {
  set_trial_attr(trial_id, "system", key, value, "set_trial_system_attr");
}

void SqliteStorage::set_trial_attr(int64_t trial_id, const char* kind, const std::string& key,
                                   const nlohmann::json& value, const char* what) {
  const nlohmann::json attrs = {{key, value}};
  std::lock_guard lock(mutex_);
  db_->transaction(what, Lock::write, [&] {
    db_->touch_unfinished(trial_id, what);
    db_->insert_trial_attrs(trial_id, kind, attrs, what);
  });
}

bool SqliteStorage::set_trial_state_values(int64_t trial_id, TrialState state,
                                           const std::vector<double>& values) {
  std::lock_guard lock(mutex_);
  return db_->transaction("set_trial_state_values", Lock::write, [&] {
    int64_t study_id = -1;
    std::string kept_values;
    std::optional<double> started, completed, heartbeat;
    {
      Query q = db_->query(
          "SELECT study_id, state, objective_values, started, completed, heartbeat "
          "FROM trials WHERE id = ?1",
          trial_id);
      NABLA_CHECK(q.step(), ValueError, "SqliteStorage::set_trial_state_values: no trial with id ",
                  trial_id);
      if (is_finished(trial_state_from_name(q.text(1)))) return false;
      study_id = q.int64(0);
      kept_values = q.text(2);
      started = q.optional_real(3);
      completed = q.optional_real(4);
      heartbeat = q.optional_real(5);
    }
    const double now = db_->now();
    if (state == TrialState::complete || state == TrialState::pruned)
      kept_values = encode_values(values);
    if (is_finished(state)) completed = now;
    if (state == TrialState::running) {
      if (!started) started = now;
      heartbeat = now;
    }
    db_->query(
           "UPDATE trials SET state = ?2, objective_values = ?3, started = ?4, "
           "completed = ?5, heartbeat = ?6, seq = ?7 WHERE id = ?1",
           trial_id, name(state), kept_values, started, completed, heartbeat, db_->bump(study_id))
        .step();
    return true;
  });
}

TrialPtr SqliteStorage::trial(int64_t trial_id) {
  std::lock_guard lock(mutex_);
  if (auto it = finished_.find(trial_id); it != finished_.end()) return it->second;
  TrialPtr t = db_->transaction("trial", Lock::read, [&] {
    auto found = db_->load_trials(one_trial(), "trial", trial_id);
    NABLA_CHECK(!found.empty(), ValueError, "SqliteStorage::trial: no trial with id ", trial_id);
    return TrialPtr(found.front());
  });
  remember(t);
  return t;
}

std::vector<TrialPtr> SqliteStorage::trials(int64_t study_id) {
  std::lock_guard lock(mutex_);
  return db_->transaction("trials", Lock::read, [&] { return refresh_locked(study_id, "trials"); });
}

const std::vector<TrialPtr>& SqliteStorage::refresh_locked(int64_t study_id, const char* what) {
  int64_t seq = -1;
  {
    Query q = db_->query("SELECT seq FROM studies WHERE id = ?1", study_id);
    NABLA_CHECK(q.step(), ValueError, "SqliteStorage::", what, ": no study with id ", study_id);
    seq = q.int64(0);
  }
  StudyCache& cache = caches_[study_id];
  if (seq == cache.seq) return cache.trials;
  const size_t known = cache.trials.size();
  for (auto& t : db_->load_trials(changed_trials(), what, study_id, cache.seq)) {
    const auto number = static_cast<size_t>(t->number);
    if (number >= cache.trials.size()) cache.trials.resize(number + 1);
    cache.trials[number] = t;
    remember(cache.trials[number]);
  }
  cache.seq = seq;
  // Numbers are dense and every new trial is a change, so no new slot is left empty.
  for (size_t k = known; k < cache.trials.size(); ++k) NABLA_ASSERT(cache.trials[k]);
  return cache.trials;
}

void SqliteStorage::record_heartbeat(int64_t trial_id) {
  std::lock_guard lock(mutex_);
  db_->transaction("record_heartbeat", Lock::write, [&] {
    NABLA_CHECK(db_->query("UPDATE trials SET heartbeat = ?2 WHERE id = ?1 RETURNING id", trial_id,
                           db_->now())
                    .step(),
                ValueError, "SqliteStorage::record_heartbeat: no trial with id ", trial_id);
  });
}

std::vector<TrialPtr> SqliteStorage::fail_stale_trials(int64_t study_id, double grace_seconds) {
  constexpr const char* kStale =
      "SELECT 1 FROM trials WHERE study_id = ?1 AND state = 'running' AND heartbeat < ?2 LIMIT 1";
  std::lock_guard lock(mutex_);
  // Called before every trial: a read finds the usual answer, none, without the write lock.
  const bool stale = db_->transaction("fail_stale_trials", Lock::read, [&] {
    db_->require_study(study_id, "fail_stale_trials");
    return db_->query(kStale, study_id, db_->now() - grace_seconds).step();
  });
  if (!stale) return {};
  const std::string reason = "no heartbeat for more than " + std::to_string(grace_seconds) + " s";
  auto failed = db_->transaction("fail_stale_trials", Lock::write, [&] {
    const double now = db_->now();
    if (!db_->query(kStale, study_id, now - grace_seconds).step())
      return std::vector<std::shared_ptr<FrozenTrial>>{};  // another worker failed them first
    const int64_t seq = db_->bump(study_id);
    std::vector<int64_t> ids;
    {
      Query q = db_->query(
          "UPDATE trials SET state = 'failed', completed = ?2, seq = ?3 "
          "WHERE study_id = ?1 AND state = 'running' AND heartbeat < ?4 RETURNING id",
          study_id, now, seq, now - grace_seconds);
      while (q.step()) ids.push_back(q.int64(0));
    }
    for (int64_t id : ids)
      db_->insert_trial_attrs(id, "system", {{"fail_reason", reason}}, "fail_stale_trials");
    // The trials this transaction failed are the only ones at the new seq.
    return db_->load_trials(changed_trials(), "fail_stale_trials", study_id, seq - 1);
  });
  std::vector<TrialPtr> out(failed.begin(), failed.end());
  for (const auto& t : out) remember(t);
  return out;
}

}  // namespace nabla::hpo
