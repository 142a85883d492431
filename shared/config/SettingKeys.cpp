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

/// One helper per kind of key: the range a kind always has is not repeated per entry.
constexpr SettingKey text(std::string_view name, std::string_view byDefault, std::string_view doc,
                          std::string_view example = {}) {
  return {name, T::Text, byDefault, 0, kNoMax, doc, example};
}
constexpr SettingKey list(std::string_view name, std::string_view byDefault, std::string_view doc,
                          std::string_view example = {}) {
  return {name, T::List, byDefault, 0, kNoMax, doc, example};
}
constexpr SettingKey flag(std::string_view name, std::string_view byDefault, std::string_view doc) {
  return {name, T::Boolean, byDefault, 0, kNoMax, doc};
}
/// `minMs`: the shortest value allowed, in milliseconds.
constexpr SettingKey duration(std::string_view name, std::string_view byDefault, std::int64_t minMs,
                              std::string_view doc) {
  return {name, T::Duration, byDefault, minMs, kNoMax, doc};
}
constexpr SettingKey integer(std::string_view name, std::string_view byDefault, std::int64_t min,
                             std::int64_t max, std::string_view doc) {
  return {name, T::Integer, byDefault, min, max, doc};
}
constexpr SettingKey port(std::string_view name, std::string_view byDefault, std::string_view doc) {
  return {name, T::Integer, byDefault, kPortMin, kPortMax, doc};
}
constexpr SettingKey portOrOff(std::string_view name, std::string_view byDefault,
                               std::string_view doc) {
  return {name, T::PortOrOff, byDefault, kPortMin, kPortMax, doc};
}
/// Also settable per route (route.<name>.health.*).
constexpr SettingKey perRoute(SettingKey key) {
  key.perRoute = true;
  return key;
}

const std::vector<SettingKey> kKeys{
    text("store.path", "data/portico.db", "the SQLite file both programs share"),
    text("store.url", "", "a PostgreSQL connection URI; when set, used over store.path",
         "postgresql://portico:secret@db.example.com:5432/portico"),
    integer("store.history_limit", "100000", 1, 100000000, "rows the change history keeps"),
    text("proxy.host", "0.0.0.0", "the data-plane listener's address"),
    port("proxy.port", "8080", "the data-plane listener's port"),
    duration("proxy.reload_interval", "100ms", 10,
             "how often the proxy checks the store's revision"),
    text("proxy.id", "<hostname>:<proxy.port>", "this proxy's name in the store's proxies table"),
    duration("proxy.heartbeat_interval", "2s", 10,
             "how often the proxy writes its row to the store (and at each applied revision)"),
    duration("proxy.forget_after", "1h", 1000, "a proxy row unseen this long is deleted"),
    duration("proxy.connect_timeout", "2s", 1, "connect to a target (then 502)"),
    duration("proxy.read_timeout", "30s", 1, "a target's answer (then 504)"),
    integer("proxy.retry_buffer", "65536", 0, 64 * 1024 * 1024,
            "largest request body kept for a retry (bytes)"),
    integer("proxy.workers", "0", 0, 256, "event loops; 0: one per CPU core"),
    integer("proxy.queue", "4096", 1, 100000, "listen backlog"),
    integer("proxy.max_connections", "16384", 1, 1000000, "client connections held at once"),
    duration("proxy.keepalive_timeout", "75s", 1, "an idle keep-alive connection"),
    duration("proxy.client_header_timeout", "60s", 1,
             "a whole request head, from its first byte (then 408)"),
    duration("proxy.client_body_timeout", "60s", 1, "between two reads of a body"),
    duration("proxy.send_timeout", "60s", 1, "a client that reads nothing"),
    integer("proxy.max_header_bytes", "32768", 1024, std::int64_t{1024} * 1024,
            "largest request head (then 431, or 414 for the line)"),
    duration("proxy.drain_timeout", "10s", 0, "on SIGTERM, how long requests in flight may finish"),
    integer("proxy.threads", "0", 0, 20000,
            "obsolete (the thread-per-connection server): accepted and ignored"),
    text("proxy.access_log", "stdout", "stdout, off or a file path"),
    text("proxy.access_log_format", "portico", "portico, combined or json"),
    text("proxy.trace_sample", "0",
         "share (0 to 1) of the W3C traces the proxy starts that it flags sampled"),
    list("proxy.trusted_proxies", "127.0.0.1, ::1", "peers whose X-Forwarded-For is believed"),
    text("proxy.status_host", "127.0.0.1",
         "the status listener's address (/metrics, /healthz, /readyz), or off"),
    portOrOff("proxy.status_port", "9091", "the status listener's port, or off"),
    portOrOff("proxy.tls.port", "off", "the HTTPS listener's port, or off"),
    text("proxy.tls.host", "(proxy.host)", "the HTTPS listener's address"),
    list("proxy.tls.certificates", "",
         "CERTIFICATE:KEY pairs of PEM files, chosen by SNI; the first is the default",
         "certs/a.pem:certs/a.key, certs/b.pem:certs/b.key"),
    flag("proxy.tls.http2", "true", "offer h2 through ALPN"),
    flag("upstream_tls.verify", "true", "verify the certificates of https targets"),
    text("upstream_tls.ca_file", "", "a PEM bundle; empty: the system's CA store"),
    text("admin.host", "127.0.0.1", "the admin API's address"),
    port("admin.port", "9090", "the admin API's port"),
    text("admin.prefix", "/endpoints", "the admin API's path prefix"),
    text("admin.token", "", "when set, every admin request needs it as a Bearer"),
    text("sidecar.id", "<hostname>:<admin.port>", "this sidecar's name among several on one store"),
    duration("admin.client_header_timeout", "10s", 1, "a whole admin request head (then 408)"),
    duration("admin.client_body_timeout", "10s", 1,
             "between two reads of an admin request body (then 408)"),
    text("log.level", "info", "error, warn, info or debug"),
    text("log.format", "text", "text or json"),
    duration("health.lease_timeout", "10s", 100,
             "a health-check lease not renewed this long is taken over"),
    perRoute(duration("health.interval", "5s", 10, "between two probes of a target")),
    perRoute(duration("health.timeout", "3s", 1, "one probe")),
    perRoute(integer("health.fall", "1", 1, 1000, "failures that mark a target down")),
    perRoute(integer("health.rise", "1", 1, 1000, "successes that bring it back")),
    perRoute(text("health.type", "tcp",
                  "tcp (connect), http (GET of the path) or grpc (grpc.health.v1.Health/Check)")),
    perRoute(text("health.path", "/", "what an http probe asks for")),
    perRoute(text("health.grpc_service", "",
                  "the service a grpc probe asks about (empty: the server as a whole)")),
    integer("health.keepalive_max", "4096", 0, 1000000,
            "probe connections kept open between http probes, over all targets (0: none)"),
    perRoute(duration("health.slow_start", "0s", 0,
                      "a target back in rotation ramps up to its weight over this (0s: off)")),
    text("route.<name>.prefix", "", "the route's path prefix (required)"),
    text("route.<name>.host", "",
         "the route's host: a name, *.suffix, an IP literal, or empty for any host"),
    list("route.<name>.targets", "", "http(s) URLs, each optionally followed by weight=N (0-1000)"),
    text("route.<name>.balancer", "round_robin", "round_robin, least_conn or ip_hash"),
    text("route.<name>.upstream_protocol", "http/1.1",
         "http/1.1, h2 (HTTP/2 to every target) or auto (https targets: ALPN decides)"),
    flag("route.<name>.strip_prefix", "true",
         "false: the target gets the whole path, prefix included"),
    text("route.<name>.rewrite_prefix", "", "replaces the matched prefix (/v2/); empty: none"),
    flag("route.<name>.preserve_host", "true", "false: Host is the target's host[:port]"),
    text("route.<name>.request_headers.set.<header>", "",
         "a request header the target gets instead of the client's"),
    text("route.<name>.request_headers.add.<header>", "",
         "a request header the target gets besides the client's"),
    list("route.<name>.request_headers.remove", "", "request headers the target does not get"),
    text("route.<name>.response_headers.set.<header>", "",
         "a response header the client gets instead of the target's"),
    text("route.<name>.response_headers.add.<header>", "",
         "a response header the client gets besides the target's"),
    list("route.<name>.response_headers.remove", "", "response headers the client does not get"),
    duration("route.<name>.connect_timeout", "(proxy.connect_timeout)", 1,
             "this route's connect timeout"),
    duration("route.<name>.read_timeout", "(proxy.read_timeout)", 1,
             "this route's read timeout (then 504)"),
    duration("route.<name>.send_timeout", "(proxy.send_timeout)", 1, "this route's send timeout"),
    text("route.<name>.max_body_size", "",
         "largest request body (10MiB; then 413); empty: no limit"),
    integer("route.<name>.retries.attempts", "0", 0, 5,
            "further tries on other targets after a failed one (0: off)"),
    list("route.<name>.retries.on", "connect-failure, reset, timeout, 502, 503, 504",
         "which failures are retried"),
    duration("route.<name>.retries.per_try_timeout", "0s", 0,
             "one attempt's answer (0s: proxy.read_timeout)"),
    integer("route.<name>.retries.budget_percent", "20", 1, 100,
            "retries in flight at most this share of the route's requests in flight (at least 3)"),
    flag("route.<name>.retries.non_idempotent", "false", "retry POST, PATCH and LOCK as well"),
    integer("route.<name>.outlier_detection.consecutive_errors", "0", 0, 1000,
            "failures in a row that eject a target (0: off)"),
    text("route.<name>.outlier_detection.errors", "gateway",
         "gateway (connect failures, resets, timeouts, 502/503/504) or 5xx"),
    duration("route.<name>.outlier_detection.base_ejection_time", "30s", 1000,
             "an ejection lasts this x the number of ejections (at most 300s)"),
    integer("route.<name>.outlier_detection.max_ejection_percent", "50", 0, 100,
            "at most this share of the route's targets ejected at once"),
    integer("route.<name>.max_requests", "0", 0, 1000000,
            "requests in flight over the route (0: unlimited; past it 503)"),
    integer("route.<name>.rate_limit.requests_per_second", "0", 0, 1000000,
            "token bucket refill rate (0: off; past it 429)"),
    integer("route.<name>.rate_limit.burst", "0", 0, 1000000,
            "requests a full bucket admits at once"),
    text("route.<name>.rate_limit.by", "client", "client (address) or route"),
};

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
