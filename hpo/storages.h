// Opens a storage by URL, so that programs and the command line name a study's home as text.
#pragma once

#include <memory>
#include <string>

#include "hpo/storage.h"

namespace nabla::hpo {

// The accepted forms:
//   ""  or "memory"                      an InMemoryStorage
//   "sqlite:///relative/path.db"         an SqliteStorage; as in SQLAlchemy and Optuna, the path is
//   "sqlite:////absolute/path.db"        what follows the third slash (four slashes: absolute)
//   "path/to/file.db", "/abs/file.db"    a plain path ending in .db: an SqliteStorage
//   "postgresql://user:password@host:port/database?option=value"
//   "postgres://..."                     a PostgresStorage; the URL goes to libpq as it is
// Anything else is a ValueError listing these forms.
std::shared_ptr<Storage> open_storage(const std::string& url);

}  // namespace nabla::hpo
