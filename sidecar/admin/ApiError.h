#pragma once

#include <stdexcept>
#include <string>

#include "base/Utf8.h"

namespace portico {

/// A rejected admin request: its HTTP status and message, turned into `{"error": ...}` once,
/// at the edge of AdminApi. The message is made printable as it is built (it may quote what
/// the client sent): valid UTF-8, controls escaped, an embedded NUL kept visible.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message, std::string allow = "")
      : std::runtime_error(printable(message)), status_(status), allow_(std::move(allow)) {}
  int status() const { return status_; }
  /// The methods the path accepts, for the `Allow` header of a 405.
  const std::string& allow() const { return allow_; }

 private:
  int status_;
  std::string allow_;
};

}  // namespace portico
