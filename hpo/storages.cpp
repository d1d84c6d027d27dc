// open_storage: from a URL to the storage it names.
#include "hpo/storages.h"

#include "core/error.h"
#include "hpo/in_memory_storage.h"
#include "hpo/postgres_storage.h"
#include "hpo/sqlite_storage.h"

namespace nabla::hpo {

namespace {

constexpr const char* kForms =
    "\"memory\" (or empty), \"sqlite:///relative/path.db\", \"sqlite:////absolute/path.db\", "
    "a file path ending in .db, or \"postgresql://user:password@host:port/database\"";

// The URL as an error may show it: a password in user:password@host is replaced by ***.
std::string redacted(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const size_t authority = scheme_end + 3;
  const size_t at = url.find('@', authority);
  const size_t slash = url.find('/', authority);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  const size_t colon = url.find(':', authority);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

}  // namespace

std::shared_ptr<Storage> open_storage(const std::string& url) {
  if (url.empty() || url == "memory") return std::make_shared<InMemoryStorage>();
  if (url.starts_with("sqlite:")) {
    NABLA_CHECK(url.starts_with("sqlite:///") && url.size() > 10, ValueError, "open_storage: '",
                url, "' names no file; the SQLite forms are \"sqlite:///relative/path.db\" and ",
                "\"sqlite:////absolute/path.db\"");
    return std::make_shared<SqliteStorage>(url.substr(10));
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://"))
    return std::make_shared<PostgresStorage>(url);
  const bool scheme = url.find("://") != std::string::npos;
  NABLA_CHECK(!scheme && url.ends_with(".db"), ValueError, "open_storage: unknown storage '",
              redacted(url), "'; expected ", kForms);
  return std::make_shared<SqliteStorage>(url);
}

}  // namespace nabla::hpo
