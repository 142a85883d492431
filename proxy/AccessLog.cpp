#include "AccessLog.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "Errors.h"

namespace portico {
namespace {

/// Appends `s` to [pos, end), replacing bytes that would break the line format.
char* append(char* pos, char* end, std::string_view s) {
  for (char c : s) {
    if (pos >= end) break;
    const auto u = static_cast<unsigned char>(c);
    *pos++ = (u < 0x20 || u == 0x7f || c == ' ' || c == '"') ? '?' : c;
  }
  return pos;
}

}  // namespace

AccessLog::AccessLog(const std::string& destination) {
  if (destination == "off") return;
  if (destination == "stdout") {
    fd_ = STDOUT_FILENO;
    return;
  }
  fd_ = ::open(destination.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw ConfigError("proxy.access_log",
                      "cannot open '" + destination + "': " + std::strerror(errno));
  owned_ = true;
  path_ = destination;
}

std::string AccessLog::reopen() {
  if (!owned_) return {};
  const int fresh = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fresh < 0) return "cannot open '" + path_ + "': " + std::strerror(errno);
  const int rc = ::dup2(fresh, fd_);
  const int err = errno;
  ::close(fresh);
  if (rc < 0) return "cannot reopen '" + path_ + "': " + std::strerror(err);
  return {};
}

AccessLog::~AccessLog() {
  if (owned_) ::close(fd_);
}

void AccessLog::write(const AccessRecord& r) const {
  if (fd_ < 0) return;
  char line[2048];
  char* const end = line + sizeof line - 1;  // room for the newline

  struct timeval tv {};
  gettimeofday(&tv, nullptr);
  struct tm utc {};
  gmtime_r(&tv.tv_sec, &utc);
  char* pos = line + std::strftime(line, 32, "%Y-%m-%dT%H:%M:%S", &utc);
  pos += std::snprintf(pos, 16, ".%03ldZ ", static_cast<long>(tv.tv_usec / 1000));

  pos = append(pos, end, r.client);
  if (pos < end) *pos++ = ' ';
  pos = append(pos, end, r.method);
  if (pos < end) *pos++ = ' ';
  // The target is cut rather than the fields after it when it is very long.
  pos = append(pos, std::min(end, pos + 1024), r.target);
  if (pos < end) *pos++ = ' ';
  pos = append(pos, std::min(end, pos + 512), r.route.empty() ? "-" : r.route);
  if (pos < end) *pos++ = ' ';
  pos = append(pos, std::min(end, pos + 256), r.upstream.empty() ? "-" : r.upstream);
  if (pos < end) {
    const int n = std::snprintf(pos, static_cast<std::size_t>(end - pos), " %d %llu %.1fms",
                                r.status, static_cast<unsigned long long>(r.bytes), r.durationMs);
    if (n > 0) pos += std::min<std::ptrdiff_t>(n, end - pos - 1);
  }
  *pos++ = '\n';
  // One write per line; a short write to a full pipe loses the rest of the line, never mixes it.
  const ssize_t written = ::write(fd_, line, static_cast<std::size_t>(pos - line));
  (void)written;
}

}  // namespace portico
