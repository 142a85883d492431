#pragma once

#include <stdexcept>
#include <string>

namespace portico {

/// A rejected admin request: its HTTP status and message, turned into `{"error": ...}` once,
/// at the edge of AdminApi.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message, std::string allow = "")
      : std::runtime_error(message), status_(status), allow_(std::move(allow)) {}
  int status() const { return status_; }
  /// The methods the path accepts, for the `Allow` header of a 405.
  const std::string& allow() const { return allow_; }

 private:
  int status_;
  std::string allow_;
};

}  // namespace portico
