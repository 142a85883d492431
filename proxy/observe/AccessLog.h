#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace portico {

/// What one proxied request did, for its access-log line.
struct AccessRecord {
  std::string_view client;
  std::string_view method;
  std::string_view target;    // the request target as received
  std::string_view protocol;  // "HTTP/1.1"
  std::string_view route;     // "-" or empty when none
  std::string_view host;      // the route's host; empty for an any-host route (or none)
  std::string_view upstream;  // the target URL last tried, "-" or empty when none
  std::string_view requestId;
  std::string_view traceId;    // W3C trace id; empty for a request never forwarded
  std::string_view referer;    // the Referer header, empty when absent
  std::string_view userAgent;  // the User-Agent header, empty when absent
  int status{0};               // sent to the client; 499 when the client went away first
  std::uint64_t bytes{0};      // response body bytes sent
  double durationMs{0};
  double upstreamMs{-1};  // until the target's response head arrived; negative: no answer
  /// Targets tried, in order (a retry or a refused connect moves to another), when more than
  /// one was: the portico and json formats then add `attempts=N tried=URL,URL` / "attempts",
  /// "tried". At most kMaxTried are named.
  static constexpr std::size_t kMaxTried = 8;
  std::size_t attempts{0};
  std::string_view tried[kMaxTried];
};

/// `proxy.access_log_format`.
enum class AccessLogFormat {
  Portico,   // time client method target [host]route upstream status bytes duration request-id
             // [trace-id]
  Combined,  // nginx/Apache combined, for goaccess and the like
  Json,      // one object per line
};

/// One line per request to stdout, a file (appended) or nowhere (`proxy.access_log`). Each
/// line is formatted on the caller's stack and written with a single write(2): lines from
/// concurrent requests never interleave and no lock is shared between requests.
class AccessLog {
 public:
  static constexpr std::size_t kMaxLine = 8192;

  /// "stdout", "off" or a file path; throws ConfigError (proxy.access_log) if it cannot be opened.
  explicit AccessLog(const std::string& destination,
                     AccessLogFormat format = AccessLogFormat::Portico);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  /// "portico", "combined" or "json"; throws ConfigError (proxy.access_log_format) otherwise.
  static AccessLogFormat parseFormat(const std::string& name);

  bool enabled() const { return fd_ >= 0; }
  /// A file destination is opened again by name and takes the place of the old descriptor in
  /// one dup2(2), so concurrent writes go to one file or the other, never nowhere. Returns the
  /// error ("" when done, or when the log is stdout or off).
  std::string reopen();
  /// The duration field of a record: milliseconds from `start` to now.
  static double millisecondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
  }
  void write(const AccessRecord& record) const;

  /// Formats one line (ending in '\n') for a request that ended at `epochMicros` into `out`
  /// (kMaxLine bytes); returns its length. Long fields are cut, never the line's structure.
  static std::size_t format(AccessLogFormat format, const AccessRecord& record,
                            std::int64_t epochMicros, char* out);

 private:
  int fd_{-1};
  bool owned_{false};
  std::string path_;
  AccessLogFormat format_;
};

}  // namespace portico
