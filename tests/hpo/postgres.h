// The PostgreSQL server hpo's tests run against, and a fresh database on it for each test.
#pragma once

#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <unistd.h>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

namespace nabla::hpo::testing {

// Where the server comes from, first found first: NABLA_TEST_POSTGRES_URL names one of your own
// (its user must be allowed to create databases); NABLA_TEST_POSTGRES_STATE names the file that
// ctest's fixture wrote (tests/CMakeLists.txt); otherwise this process starts one with
// postgres_server.sh and stops it when it exits, so that the tests run the same by hand.
class PostgresServer {
 public:
  static PostgresServer& get() {
    static PostgresServer server;
    return server;
  }
  // Empty where no server can run here; skip_reason() then says why.
  const std::string& url() const { return url_; }
  const std::string& skip_reason() const { return skip_reason_; }

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;
  ~PostgresServer() {
    if (!own_state_.empty()) run_script("stop", own_state_);
  }

 private:
  PostgresServer() {
    if (const char* url = std::getenv("NABLA_TEST_POSTGRES_URL"); url && *url) {
      url_ = url;
      return;
    }
    std::string state;
    if (const char* path = std::getenv("NABLA_TEST_POSTGRES_STATE"); path && *path) {
      state = path;
    } else {
      char path_template[] = "/tmp/nabla-postgres-state.XXXXXX";
      const int fd = mkstemp(path_template);
      if (fd < 0) throw std::runtime_error("postgres tests: cannot create a state file in /tmp");
      close(fd);
      own_state_ = state = path_template;
      if (run_script("start", state) != 0)
        throw std::runtime_error("postgres tests: " NABLA_POSTGRES_SERVER_SCRIPT " start failed");
    }
    std::ifstream in(state);
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("url=")) url_ = line.substr(4);
      if (line.starts_with("skip=")) skip_reason_ = line.substr(5);
    }
    if (url_.empty() && skip_reason_.empty())
      throw std::runtime_error("postgres tests: " + state +
                               " names no server (did its start fail?)");
  }

  static int run_script(const char* command, const std::string& state) {
    const std::string line =
        std::string("'" NABLA_POSTGRES_SERVER_SCRIPT "' ") + command + " '" + state + "'";
    return std::system(line.c_str());
  }

  std::string url_, skip_reason_, own_state_;
};

// A connection for the tests' own statements (what they check or break under the storage).
class Admin {
 public:
  explicit Admin(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK)
      throw std::runtime_error(std::string("postgres tests: ") + PQerrorMessage(conn_));
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;
  ~Admin() { PQfinish(conn_); }

  // The first column of the first row ("" without rows); a statement's error throws.
  std::string query(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(r);
    std::string out;
    if (status == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
    const std::string error = PQresultErrorMessage(r);
    PQclear(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
      throw std::runtime_error("postgres tests: " + sql + ": " + error);
    return out;
  }

 private:
  PGconn* conn_;
};

// Whether the tests have a server; where they have none, the test says why, in words that ctest
// reads as a skip (tests/CMakeLists.txt).
inline bool postgres_available() {
  const PostgresServer& server = PostgresServer::get();
  if (server.url().empty()) MESSAGE("PostgreSQL tests skipped: " << server.skip_reason());
  return !server.url().empty();
}

// A database of its own for one test on the server above, dropped when the test ends. False
// where no server can run; the test then returns at once, and says why.
class TestDatabase {
 public:
  TestDatabase() {
    if (!postgres_available()) return;
    const PostgresServer& server = PostgresServer::get();
    std::random_device device;
    std::ostringstream name;
    name << "nabla_test_" << getpid() << "_" << std::hex << device();
    name_ = name.str();
    Admin(server.url()).query("CREATE DATABASE " + name_);
    url_ = with_database(server.url(), name_);
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;
  ~TestDatabase() {
    if (name_.empty()) return;
    try {
      Admin(PostgresServer::get().url())
          .query("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception& e) {
      MESSAGE(e.what());
    }
  }

  explicit operator bool() const { return !url_.empty(); }
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

  // `url` with its database replaced by `database`, as a postgresql:// URL (what open_storage
  // takes): user, password, host and port in front, every other setting as a query parameter.
  static std::string with_database(const std::string& url, const std::string& database) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
    if (!options) {
      const std::string message = error ? error : "";
      PQfreemem(error);
      throw std::runtime_error("postgres tests: malformed server URL: " + message);
    }
    std::map<std::string, std::string> set;
    for (PQconninfoOption* o = options; o->keyword; ++o)
      if (o->val) set[o->keyword] = o->val;
    PQconninfoFree(options);
    auto take = [&](const std::string& key) {
      auto it = set.find(key);
      if (it == set.end()) return std::string();
      std::string v = it->second;
      set.erase(it);
      return encoded(v);
    };
    std::string out = "postgresql://" + take("user");
    if (const std::string password = take("password"); !password.empty()) out += ":" + password;
    if (out.back() != '/') out += "@";
    out += take("host");
    if (const std::string port = take("port"); !port.empty()) out += ":" + port;
    set.erase("dbname");
    out += "/" + encoded(database);
    char separator = '?';
    for (const auto& [key, value] : set) {
      out += separator + key + "=" + encoded(value);
      separator = '&';
    }
    return out;
  }

 private:
  static std::string encoded(const std::string& value) {
    std::string out;
    for (unsigned char ch : value) {
      if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
        out += static_cast<char>(ch);
      } else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", ch);
        out += hex;
      }
    }
    return out;
  }

  std::string name_, url_;
};

}  // namespace nabla::hpo::testing
