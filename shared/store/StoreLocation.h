#pragma once

#include <string>

namespace portico {

/// Where the store is: a PostgreSQL server (`store.url`, a libpq connection URI) when `url` is
/// set, else an SQLite file (`store.path`).
struct StoreLocation {
  std::string path;
  std::string url;

  bool postgres() const { return !url.empty(); }
  /// For messages: "store.url postgresql://portico:***@db:5432/portico" (password hidden) or
  /// "store.path data/portico.db".
  std::string describe() const;
  /// The URL with any password replaced by ***.
  static std::string redact(const std::string& url);
};

}  // namespace portico
