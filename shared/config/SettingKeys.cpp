#include "config/SettingKeys.h"

#include <algorithm>
#include <stdexcept>

namespace portico {
namespace {

using T = SettingType;
constexpr std::int64_t kPortMin = 1;
constexpr std::int64_t kPortMax = 65535;
constexpr std::int64_t kNoMax = std::numeric_limits<std::int64_t>::max();
constexpr std::string_view kRoute = "route.<name>.";

// clang-format off
const std::vector<SettingKey> kKeys{
  {"store.path", T::Text, "data/portico.db", 0, kNoMax, "the SQLite file both programs share"},
  {"store.url", T::Text, "", 0, kNoMax,
   "a PostgreSQL connection URI; when set, used over store.path",
   "postgresql://portico:secret@db.example.com:5432/portico"},
  {"store.history_limit", T::Integer, "100000", 1, 100000000, "rows the change history keeps"},
  {"proxy.host", T::Text, "0.0.0.0", 0, kNoMax, "the data-plane listener's address"},
  {"proxy.port", T::Integer, "8080", kPortMin, kPortMax, "the data-plane listener's port"},
  {"proxy.reload_interval", T::Duration, "100ms", 10, kNoMax,
   "how often the proxy checks the store's revision"},
  {"proxy.id", T::Text, "<hostname>:<proxy.port>", 0, kNoMax,
   "this proxy's name in the store's proxies table"},
  {"proxy.heartbeat_interval", T::Duration, "2s", 10, kNoMax,
   "how often the proxy writes its row to the store (and at each applied revision)"},
  {"proxy.forget_after", T::Duration, "1h", 1000, kNoMax,
   "a proxy row unseen this long is deleted"},
  {"proxy.connect_timeout", T::Duration, "2s", 1, kNoMax, "connect to a target (then 502)"},
  {"proxy.read_timeout", T::Duration, "30s", 1, kNoMax, "a target's answer (then 504)"},
  {"proxy.retry_buffer", T::Integer, "65536", 0, 64 * 1024 * 1024,
   "largest request body kept for a retry (bytes)"},
  {"proxy.workers", T::Integer, "0", 0, 256, "event loops; 0: one per CPU core"},
  {"proxy.queue", T::Integer, "4096", 1, 100000, "listen backlog"},
  {"proxy.max_connections", T::Integer, "16384", 1, 1000000, "client connections held at once"},
  {"proxy.keepalive_timeout", T::Duration, "75s", 1, kNoMax, "an idle keep-alive connection"},
  {"proxy.client_header_timeout", T::Duration, "60s", 1, kNoMax,
   "a whole request head, from its first byte (then 408)"},
  {"proxy.client_body_timeout", T::Duration, "60s", 1, kNoMax, "between two reads of a body"},
  {"proxy.send_timeout", T::Duration, "60s", 1, kNoMax, "a client that reads nothing"},
  {"proxy.max_header_bytes", T::Integer, "32768", 1024, std::int64_t{1024} * 1024,
   "largest request head (then 431, or 414 for the line)"},
  {"proxy.drain_timeout", T::Duration, "10s", 0, kNoMax,
   "on SIGTERM, how long requests in flight may finish"},
  {"proxy.threads", T::Integer, "0", 0, 20000,
   "obsolete (the thread-per-connection server): accepted and ignored"},
  {"proxy.access_log", T::Text, "stdout", 0, kNoMax, "stdout, off or a file path"},
  {"proxy.access_log_format", T::Text, "portico", 0, kNoMax, "portico, combined or json"},
  {"proxy.trace_sample", T::Text, "0", 0, kNoMax,
   "share (0 to 1) of the W3C traces the proxy starts that it flags sampled"},
  {"proxy.trusted_proxies", T::List, "127.0.0.1, ::1", 0, kNoMax,
   "peers whose X-Forwarded-For is believed"},
  {"proxy.status_host", T::Text, "127.0.0.1", 0, kNoMax,
   "the status listener's address (/metrics, /healthz, /readyz), or off"},
  {"proxy.status_port", T::PortOrOff, "9091", kPortMin, kPortMax,
   "the status listener's port, or off"},
  {"proxy.tls.port", T::PortOrOff, "off", kPortMin, kPortMax, "the HTTPS listener's port, or off"},
  {"proxy.tls.host", T::Text, "(proxy.host)", 0, kNoMax, "the HTTPS listener's address"},
  {"proxy.tls.certificates", T::List, "", 0, kNoMax,
   "CERTIFICATE:KEY pairs of PEM files, chosen by SNI; the first is the default",
   "certs/a.pem:certs/a.key, certs/b.pem:certs/b.key"},
  {"proxy.tls.http2", T::Boolean, "true", 0, kNoMax, "offer h2 through ALPN"},
  {"upstream_tls.verify", T::Boolean, "true", 0, kNoMax,
   "verify the certificates of https targets"},
  {"upstream_tls.ca_file", T::Text, "", 0, kNoMax, "a PEM bundle; empty: the system's CA store"},
  {"admin.host", T::Text, "127.0.0.1", 0, kNoMax, "the admin API's address"},
  {"admin.port", T::Integer, "9090", kPortMin, kPortMax, "the admin API's port"},
  {"admin.prefix", T::Text, "/endpoints", 0, kNoMax, "the admin API's path prefix"},
  {"admin.token", T::Text, "", 0, kNoMax, "when set, every admin request needs it as a Bearer"},
  {"sidecar.id", T::Text, "<hostname>:<admin.port>", 0, kNoMax,
   "this sidecar's name among several on one store"},
  {"admin.client_header_timeout", T::Duration, "10s", 1, kNoMax,
   "a whole admin request head (then 408)"},
  {"admin.client_body_timeout", T::Duration, "10s", 1, kNoMax,
   "between two reads of an admin request body (then 408)"},
  {"log.level", T::Text, "info", 0, kNoMax, "error, warn, info or debug"},
  {"log.format", T::Text, "text", 0, kNoMax, "text or json"},
  {"health.lease_timeout", T::Duration, "10s", 100, kNoMax,
   "a health-check lease not renewed this long is taken over"},
  {"health.interval", T::Duration, "5s", 10, kNoMax, "between two probes of a target", {}, true},
  {"health.timeout", T::Duration, "3s", 1, kNoMax, "one probe", {}, true},
  {"health.fall", T::Integer, "1", 1, 1000, "failures that mark a target down", {}, true},
  {"health.rise", T::Integer, "1", 1, 1000, "successes that bring it back", {}, true},
  {"health.type", T::Text, "tcp", 0, kNoMax,
   "tcp (connect), http (GET of the path) or grpc (grpc.health.v1.Health/Check)", {}, true},
  {"health.path", T::Text, "/", 0, kNoMax, "what an http probe asks for", {}, true},
  {"health.grpc_service", T::Text, "", 0, kNoMax,
   "the service a grpc probe asks about (empty: the server as a whole)", {}, true},
  {"health.keepalive_max", T::Integer, "4096", 0, 1000000,
   "probe connections kept open between http probes, over all targets (0: none)"},
  {"health.slow_start", T::Duration, "0s", 0, kNoMax,
   "a target back in rotation ramps up to its weight over this (0s: off)", {}, true},
  {"route.<name>.prefix", T::Text, "", 0, kNoMax, "the route's path prefix (required)"},
  {"route.<name>.host", T::Text, "", 0, kNoMax,
   "the route's host: a name, *.suffix, an IP literal, or empty for any host"},
  {"route.<name>.targets", T::List, "", 0, kNoMax,
   "http(s) URLs, each optionally followed by weight=N (0-1000)"},
  {"route.<name>.balancer", T::Text, "round_robin", 0, kNoMax,
   "round_robin, least_conn or ip_hash"},
  {"route.<name>.upstream_protocol", T::Text, "http/1.1", 0, kNoMax,
   "http/1.1, h2 (HTTP/2 to every target) or auto (https targets: ALPN decides)"},
  {"route.<name>.strip_prefix", T::Boolean, "true", 0, kNoMax,
   "false: the target gets the whole path, prefix included"},
  {"route.<name>.rewrite_prefix", T::Text, "", 0, kNoMax,
   "replaces the matched prefix (/v2/); empty: none"},
  {"route.<name>.preserve_host", T::Boolean, "true", 0, kNoMax,
   "false: Host is the target's host[:port]"},
  {"route.<name>.request_headers.set.<header>", T::Text, "", 0, kNoMax,
   "a request header the target gets instead of the client's"},
  {"route.<name>.request_headers.add.<header>", T::Text, "", 0, kNoMax,
   "a request header the target gets besides the client's"},
  {"route.<name>.request_headers.remove", T::List, "", 0, kNoMax,
   "request headers the target does not get"},
  {"route.<name>.response_headers.set.<header>", T::Text, "", 0, kNoMax,
   "a response header the client gets instead of the target's"},
  {"route.<name>.response_headers.add.<header>", T::Text, "", 0, kNoMax,
   "a response header the client gets besides the target's"},
  {"route.<name>.response_headers.remove", T::List, "", 0, kNoMax,
   "response headers the client does not get"},
  {"route.<name>.connect_timeout", T::Duration, "(proxy.connect_timeout)", 1, kNoMax,
   "this route's connect timeout"},
  {"route.<name>.read_timeout", T::Duration, "(proxy.read_timeout)", 1, kNoMax,
   "this route's read timeout (then 504)"},
  {"route.<name>.send_timeout", T::Duration, "(proxy.send_timeout)", 1, kNoMax,
   "this route's send timeout"},
  {"route.<name>.max_body_size", T::Text, "", 0, kNoMax,
   "largest request body (10MiB; then 413); empty: no limit"},
  {"route.<name>.retries.attempts", T::Integer, "0", 0, 5,
   "further tries on other targets after a failed one (0: off)"},
  {"route.<name>.retries.on", T::List, "connect-failure, reset, timeout, 502, 503, 504", 0, kNoMax,
   "which failures are retried"},
  {"route.<name>.retries.per_try_timeout", T::Duration, "0s", 0, kNoMax,
   "one attempt's answer (0s: proxy.read_timeout)"},
  {"route.<name>.retries.budget_percent", T::Integer, "20", 1, 100,
   "retries in flight at most this share of the route's requests in flight (at least 3)"},
  {"route.<name>.retries.non_idempotent", T::Boolean, "false", 0, kNoMax,
   "retry POST, PATCH and LOCK as well"},
  {"route.<name>.outlier_detection.consecutive_errors", T::Integer, "0", 0, 1000,
   "failures in a row that eject a target (0: off)"},
  {"route.<name>.outlier_detection.errors", T::Text, "gateway", 0, kNoMax,
   "gateway (connect failures, resets, timeouts, 502/503/504) or 5xx"},
  {"route.<name>.outlier_detection.base_ejection_time", T::Duration, "30s", 1000, kNoMax,
   "an ejection lasts this x the number of ejections (at most 300s)"},
  {"route.<name>.outlier_detection.max_ejection_percent", T::Integer, "50", 0, 100,
   "at most this share of the route's targets ejected at once"},
  {"route.<name>.max_requests", T::Integer, "0", 0, 1000000,
   "requests in flight over the route (0: unlimited; past it 503)"},
  {"route.<name>.rate_limit.requests_per_second", T::Integer, "0", 0, 1000000,
   "token bucket refill rate (0: off; past it 429)"},
  {"route.<name>.rate_limit.burst", T::Integer, "0", 0, 1000000,
   "requests a full bucket admits at once"},
  {"route.<name>.rate_limit.by", T::Text, "client", 0, kNoMax, "client (address) or route"},
};
// clang-format on

/// `name` up to its last '.', or "" when it has none.
std::string_view parentOf(std::string_view name) {
  const auto dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(0, dot);
}

/// Every key name, the per-route copies of the health checks included.
std::vector<std::string> allNames() {
  std::vector<std::string> names;
  for (const auto& key : kKeys) {
    names.emplace_back(key.name);
    if (key.perRoute) names.push_back(std::string(kRoute) + std::string(key.name));
  }
  return names;
}

}  // namespace

const std::vector<SettingKey>& settingKeys() {
  return kKeys;
}

const SettingKey& settingKey(std::string_view name) {
  const auto it =
      std::find_if(kKeys.begin(), kKeys.end(), [&](const SettingKey& k) { return k.name == name; });
  if (it == kKeys.end())
    throw std::logic_error(std::string(name) + " is missing from config/SettingKeys.cpp");
  return *it;
}

std::vector<std::string> settingSections() {
  std::vector<std::string> sections;
  for (const auto& key : kKeys) {
    const std::string section(key.name.substr(0, key.name.find('.')));
    if (std::find(sections.begin(), sections.end(), section) == sections.end())
      sections.push_back(section);
  }
  return sections;
}

std::vector<std::string> settingChildren(std::string_view parent) {
  std::vector<std::string> children;
  for (const auto& full : allNames()) {
    std::string_view name = full;
    // Walk up until the name's parent is `parent`: proxy.tls.port is `tls` under `proxy`.
    while (!name.empty() && parentOf(name) != parent) name = parentOf(name);
    if (name.empty()) continue;
    const std::string child(name.substr(parent.size() + 1));
    if (std::find(children.begin(), children.end(), child) == children.end())
      children.push_back(child);
  }
  return children;
}

}  // namespace portico
