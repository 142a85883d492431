#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "base/Utf8.h"

namespace portico {

// Every message below is made printable (valid UTF-8, control characters and stray bytes
// escaped) as it is built: it may quote what a client or a file sent, and it ends up in JSON
// answers, logs and one-line refusals, where an embedded NUL would otherwise cut it short.

/// A configuration key with an unusable value; `what()` is one line naming the key.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& key, const std::string& problem)
      : std::runtime_error(printable(key + ": " + problem)), key_(key) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

/// Input from a user (API body, prefix, URL, duration) that cannot be accepted.
class InvalidInput : public std::invalid_argument {
 public:
  explicit InvalidInput(const std::string& message) : std::invalid_argument(printable(message)) {}
};

/// A route or target the caller named does not exist.
class NotFound : public std::runtime_error {
 public:
  explicit NotFound(const std::string& message) : std::runtime_error(printable(message)) {}
};

/// The change would duplicate something that exists (a route's prefix).
class Conflict : public std::runtime_error {
 public:
  explicit Conflict(const std::string& message) : std::runtime_error(printable(message)) {}
};

/// A write's If-Match named a revision the store is no longer at; nothing was changed.
class PreconditionFailed : public std::runtime_error {
 public:
  PreconditionFailed(const std::string& message, std::int64_t revision)
      : std::runtime_error(message), revision_(revision) {}
  /// The store's revision when the write was refused.
  std::int64_t revision() const { return revision_; }

 private:
  std::int64_t revision_;
};

/// The store failed, or has a schema this binary cannot use.
class StoreError : public std::runtime_error {
 public:
  explicit StoreError(const std::string& message) : std::runtime_error(printable(message)) {}
};

/// The store exists but is older than this binary and this process may not upgrade it (the proxy).
class StoreNotReady : public StoreError {
 public:
  using StoreError::StoreError;
};

/// The store cannot be reached (a database server down or refusing connections); nothing was
/// changed, and the same request may succeed once it is back.
class StoreUnavailable : public StoreError {
 public:
  using StoreError::StoreError;
};

/// Another connection held the store's lock past the busy timeout; nothing was changed, and
/// the same request may succeed when retried.
class StoreBusy : public StoreError {
 public:
  using StoreError::StoreError;
};

}  // namespace portico
