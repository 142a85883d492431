#include "observe/AccessLog.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "base/Errors.h"

namespace portico {
namespace {

/// Writes into [pos, end) and never past it; every field knows how much room it may take.
class LineWriter {
 public:
  LineWriter(char* begin, char* end) : pos_(begin), end_(end) {}
  char* pos() const { return pos_; }

  void put(char c) {
    if (pos_ < end_) *pos_++ = c;
  }
  void raw(std::string_view s) {
    const std::size_t n = std::min<std::size_t>(s.size(), static_cast<std::size_t>(end_ - pos_));
    std::memcpy(pos_, s.data(), n);
    pos_ += n;
  }
  template <typename... Args>
  void printf(const char* format, Args... args) {
    if (pos_ >= end_) return;
    const int n = std::snprintf(pos_, static_cast<std::size_t>(end_ - pos_) + 1, format, args...);
    if (n > 0) pos_ += std::min<std::ptrdiff_t>(n, end_ - pos_);
  }
  /// A space-separated field: bytes that would split it or break the line become '?'.
  void token(std::string_view s, std::size_t limit) {
    char* const stop =
        pos_ + std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(limit), end_ - pos_);
    for (char c : s) {
      if (pos_ >= stop) break;
      const auto u = static_cast<unsigned char>(c);
      *pos_++ = (u < 0x20 || u == 0x7f || c == ' ' || c == '"') ? '?' : c;
    }
  }
  /// Inside a quoted field as nginx writes it: '"', '\' and control bytes as \xHH.
  void quoted(std::string_view s, std::size_t limit) {
    char* const stop =
        pos_ + std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(limit), end_ - pos_);
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f || c == '"' || c == '\\') {
        if (stop - pos_ < 4) break;
        std::snprintf(pos_, 5, "\\x%02X", u);
        pos_ += 4;
      } else {
        if (pos_ >= stop) break;
        *pos_++ = c;
      }
    }
  }
  /// A JSON string (with its quotes); UTF-8 passes through, as nginx's escape=json does.
  void json(std::string_view s, std::size_t limit) {
    if (end_ - pos_ < 2) return;
    *pos_++ = '"';
    char* const stop =
        pos_ + std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(limit), end_ - pos_ - 1);
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      const char* escape = nullptr;
      switch (c) {
        case '"':
          escape = "\\\"";
          break;
        case '\\':
          escape = "\\\\";
          break;
        case '\n':
          escape = "\\n";
          break;
        case '\r':
          escape = "\\r";
          break;
        case '\t':
          escape = "\\t";
          break;
        default:
          break;
      }
      if (escape) {
        if (stop - pos_ < 2) break;
        *pos_++ = escape[0];
        *pos_++ = escape[1];
      } else if (u < 0x20 || u == 0x7f) {
        if (stop - pos_ < 6) break;
        std::snprintf(pos_, 7, "\\u%04x", u);
        pos_ += 6;
      } else {
        if (pos_ >= stop) break;
        *pos_++ = c;
      }
    }
    *pos_++ = '"';  // room was kept for it
  }

 private:
  char* pos_;
  char* const end_;
};

std::string_view orDash(std::string_view s) {
  return s.empty() ? std::string_view("-") : s;
}

void isoTime(LineWriter& w, std::int64_t epochMicros) {
  const std::time_t seconds = static_cast<std::time_t>(epochMicros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  w.raw(buffer);
  w.printf(".%03dZ", static_cast<int>((epochMicros / 1000) % 1000));
}

void clfTime(LineWriter& w, std::int64_t epochMicros) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = static_cast<std::time_t>(epochMicros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  w.printf("[%02d/%s/%04d:%02d:%02d:%02d +0000]", utc.tm_mday, kMonths[utc.tm_mon],
           utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

/// The portico format's spelling of the fields both formats share: " VALUE" each, the
/// attempts as " attempts=N tried=A,B".
struct PorticoSpelling {
  void field(LineWriter& w, std::string_view, std::string_view value, std::size_t limit) const {
    w.put(' ');
    w.token(value, limit);
  }
  void attempts(LineWriter& w, std::size_t n) const { w.printf(" attempts=%zu tried=", n); }
  void tried(LineWriter& w, std::string_view url) const { w.token(url, 256); }
  void triedEnd(LineWriter&) const {}
};

/// The JSON format's: ,"NAME":"VALUE" each, the attempts as ,"attempts":N,"tried":["A","B"].
struct JsonSpelling {
  void field(LineWriter& w, std::string_view name, std::string_view value,
             std::size_t limit) const {
    w.raw(",\"");
    w.raw(name);
    w.raw("\":");
    w.json(value, limit);
  }
  void attempts(LineWriter& w, std::size_t n) const {
    w.printf(",\"attempts\":%zu,\"tried\":[", n);
  }
  void tried(LineWriter& w, std::string_view url) const { w.json(url, 256); }
  void triedEnd(LineWriter& w) const { w.put(']'); }
};

// The fields the portico and JSON formats share are lists both walk in their own spelling
// (`Spelling`): the request's, after the time, and forwarding's, after the request id.

template <typename Spelling>
void requestFields(LineWriter& w, const AccessRecord& r, const Spelling& fields) {
  fields.field(w, "client", r.client, 64);
  fields.field(w, "method", r.method, 32);
  // The target is cut rather than the fields after it when it is very long.
  fields.field(w, "path", r.target, 2048);
}

/// Only forwarded requests have a trace id; the attempts follow it when more than one target
/// was tried (a request that was never forwarded has neither).
template <typename Spelling>
void forwardingFields(LineWriter& w, const AccessRecord& r, const Spelling& fields) {
  if (!r.traceId.empty()) fields.field(w, "trace_id", r.traceId, 32);
  if (r.attempts <= 1) return;
  fields.attempts(w, r.attempts);
  for (std::size_t i = 0; i < r.attempts && i < AccessRecord::kMaxTried; ++i) {
    if (i > 0) w.put(',');
    fields.tried(w, r.tried[i]);
  }
  fields.triedEnd(w);
}

void porticoLine(LineWriter& w, const AccessRecord& r, std::int64_t epochMicros) {
  isoTime(w, epochMicros);
  requestFields(w, r, PorticoSpelling());
  w.put(' ');
  // A host route shows as "api.example.com/v1/": one field, as before, for any kind of route.
  if (!r.host.empty() && !r.route.empty() && r.route != "-") w.token(r.host, 256);
  w.token(orDash(r.route), 512);
  w.put(' ');
  w.token(orDash(r.upstream), 256);
  w.printf(" %d %llu %.1fms ", r.status, static_cast<unsigned long long>(r.bytes), r.durationMs);
  w.token(orDash(r.requestId), 200);
  forwardingFields(w, r, PorticoSpelling());
}

void combinedLine(LineWriter& w, const AccessRecord& r, std::int64_t epochMicros) {
  w.token(r.client, 64);
  w.raw(" - - ");
  clfTime(w, epochMicros);
  w.raw(" \"");
  w.quoted(r.method, 32);
  w.put(' ');
  w.quoted(r.target, 2048);
  w.put(' ');
  w.quoted(r.protocol.empty() ? std::string_view("HTTP/1.1") : r.protocol, 16);
  w.printf("\" %d %llu \"", r.status, static_cast<unsigned long long>(r.bytes));
  w.quoted(orDash(r.referer), 512);
  w.raw("\" \"");
  w.quoted(orDash(r.userAgent), 512);
  w.put('"');
}

void jsonLine(LineWriter& w, const AccessRecord& r, std::int64_t epochMicros) {
  w.raw("{\"time\":\"");
  isoTime(w, epochMicros);
  w.put('"');
  requestFields(w, r, JsonSpelling());
  w.raw(",\"protocol\":");
  w.json(r.protocol, 16);
  w.printf(",\"status\":%d,\"bytes_sent\":%llu,\"request_time\":%.6f,\"upstream_time\":", r.status,
           static_cast<unsigned long long>(r.bytes), r.durationMs / 1000);
  if (r.upstreamMs >= 0) {
    w.printf("%.6f", r.upstreamMs / 1000);
  } else {
    w.raw("null");
  }
  w.raw(",\"route\":");
  if (r.route.empty() || r.route == "-") {
    w.raw("null");
  } else {
    w.json(r.route, 512);
  }
  if (!r.host.empty()) {
    w.raw(",\"host\":");
    w.json(r.host, 256);
  }
  w.raw(",\"target\":");
  if (r.upstream.empty() || r.upstream == "-") {
    w.raw("null");
  } else {
    w.json(r.upstream, 256);
  }
  w.raw(",\"request_id\":");
  w.json(r.requestId, 200);
  forwardingFields(w, r, JsonSpelling());
  w.raw(",\"referer\":");
  w.json(r.referer, 512);
  w.raw(",\"user_agent\":");
  w.json(r.userAgent, 512);
  w.put('}');
}

}  // namespace

AccessLogFormat AccessLog::parseFormat(const std::string& name) {
  if (name == "portico") return AccessLogFormat::Portico;
  if (name == "combined") return AccessLogFormat::Combined;
  if (name == "json") return AccessLogFormat::Json;
  throw ConfigError("proxy.access_log_format", "'" + name + "' is not portico, combined or json");
}

AccessLog::AccessLog(const std::string& destination, AccessLogFormat format) : format_(format) {
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

std::size_t AccessLog::format(AccessLogFormat format, const AccessRecord& r,
                              std::int64_t epochMicros, char* out) {
  // The last byte is kept for the newline, whatever the fields did.
  LineWriter w(out, out + kMaxLine - 1);
  switch (format) {
    case AccessLogFormat::Portico:
      porticoLine(w, r, epochMicros);
      break;
    case AccessLogFormat::Combined:
      combinedLine(w, r, epochMicros);
      break;
    case AccessLogFormat::Json:
      jsonLine(w, r, epochMicros);
      break;
  }
  char* end = w.pos();
  *end++ = '\n';
  return static_cast<std::size_t>(end - out);
}

void AccessLog::write(const AccessRecord& r) const {
  if (fd_ < 0) return;
  char line[kMaxLine + 1];
  timeval tv{};
  gettimeofday(&tv, nullptr);
  const std::size_t n =
      format(format_, r, static_cast<std::int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec, line);
  // One write per line; a short write to a full pipe loses the rest of the line, never mixes it.
  const ssize_t written = ::write(fd_, line, n);
  (void)written;
}

}  // namespace portico
