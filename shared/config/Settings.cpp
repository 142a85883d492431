#include "config/Settings.h"

#include <Poco/Environment.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>
#include <Poco/Util/AbstractConfiguration.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <optional>
#include <set>

#include "base/Duration.h"
#include "base/Errors.h"
#include "base/Utf8.h"
#include "config/SettingKeys.h"
#include "model/JsonFields.h"
#include "model/ModelJson.h"
#include "model/Normalize.h"
#include "model/RequestPolicy.h"

namespace portico {
namespace {

using Poco::Util::AbstractConfiguration;

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  Poco::StringTokenizer tok(
      s, ",", Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
  for (const auto& t : tok) out.push_back(t);
  return out;
}

/// A setting's true/false spelling (`lowered` in lower case), or nothing for another text.
std::optional<bool> flagValue(const std::string& lowered) {
  if (lowered == "true" || lowered == "on" || lowered == "yes" || lowered == "1") return true;
  if (lowered == "false" || lowered == "off" || lowered == "no" || lowered == "0") return false;
  return std::nullopt;
}

/// Reads one key at a time, turning every parse failure into a ConfigError naming the key. A
/// key given by name alone takes its type, default and range from config/SettingKeys.
class Reader {
 public:
  explicit Reader(const AbstractConfiguration& c) : c_(c) {}

  bool has(const std::string& key) const { return c_.hasProperty(key); }

  std::string text(const std::string& key, const std::string& def) const {
    try {
      return Poco::trim(c_.getString(key, def));
    } catch (const Poco::Exception& e) {
      // POCO expands ${other.key} in values; a reference loop ends in an exception.
      throw ConfigError(key, e.displayText());
    }
  }

  std::string text(std::string_view name) const {
    const SettingKey& k = entry(name, SettingType::Text);
    return text(std::string(k.name), std::string(k.byDefault));
  }

  /// A text that may not be empty; `hint` follows "is empty" in the error.
  std::string nonEmpty(std::string_view name, const std::string& hint = "") const {
    std::string v = text(name);
    if (v.empty()) throw ConfigError(std::string(name), "is empty" + hint);
    return v;
  }

  bool boolean(std::string_view name) const {
    const SettingKey& k = entry(name, SettingType::Boolean);
    return boolean(std::string(k.name), name);
  }

  /// `key` read as the table's `name` says (a route's strip_prefix as route.<name>.strip_prefix).
  bool boolean(const std::string& key, std::string_view name) const {
    const SettingKey& k = entry(name, SettingType::Boolean);
    const std::string v = Poco::toLower(text(key, std::string(k.byDefault)));
    const std::optional<bool> on = flagValue(v);
    if (!on) throw ConfigError(key, "'" + v + "' is not true or false");
    return *on;
  }

  int integer(std::string_view name) const {
    const SettingKey& k = entry(name, SettingType::Integer);
    const std::string key(k.name);
    return integer(key, text(key, std::string(k.byDefault)), k);
  }

  /// `key` as the table's `name` says (a route's health.fall is read as health.fall), with
  /// `def` when absent.
  int integer(const std::string& key, int def, std::string_view name) const {
    const SettingKey& k = entry(name, SettingType::Integer);
    return has(key) ? integer(key, text(key, ""), k) : def;
  }

  /// A port, or nothing for "off".
  std::optional<int> portOrOff(std::string_view name) const {
    const SettingKey& k = entry(name, SettingType::PortOrOff);
    const std::string key(k.name);
    const std::string v = text(key, std::string(k.byDefault));
    if (v == "off") return std::nullopt;
    return integer(key, v, k);
  }

  std::chrono::milliseconds duration(std::string_view name) const {
    const SettingKey& k = entry(name, SettingType::Duration);
    const std::string key(k.name);
    return duration(key, parseDuration(k.byDefault), name);
  }

  std::chrono::milliseconds duration(const std::string& key, std::chrono::milliseconds def,
                                     std::string_view name) const {
    const SettingKey& k = entry(name, SettingType::Duration);
    if (!has(key)) return def;
    std::chrono::milliseconds d;
    try {
      d = parseDuration(text(key, ""));
    } catch (const InvalidInput& e) {
      throw ConfigError(key, e.what());
    }
    const std::chrono::milliseconds min(k.min);
    if (d < min) throw ConfigError(key, "must be at least " + formatDuration(min));
    return d;
  }

  std::vector<std::string> list(std::string_view name) const {
    const SettingKey& k = entry(name, SettingType::List);
    return splitList(text(std::string(k.name), std::string(k.byDefault)));
  }

  template <typename F>
  auto parsed(const std::string& key, const std::string& def, F parse) const {
    try {
      return parse(text(key, def));
    } catch (const InvalidInput& e) {
      throw ConfigError(key, e.what());
    }
  }

  template <typename F>
  auto parsed(std::string_view name, F parse) const {
    const SettingKey& k = entry(name, SettingType::Text);
    return parsed(std::string(k.name), std::string(k.byDefault), parse);
  }

 private:
  static const SettingKey& entry(std::string_view name, SettingType type) {
    const SettingKey& k = settingKey(name);
    assert(k.type == type && "read as another type than config/SettingKeys.cpp declares");
    (void)type;
    return k;
  }

  static int integer(const std::string& key, const std::string& v, const SettingKey& k) {
    int n = 0;
    if (!Poco::NumberParser::tryParse(v, n))
      throw ConfigError(key, "'" + v + "' is not an integer");
    if (n < k.min || n > k.max)
      throw ConfigError(key, std::to_string(n) + " is out of range " + std::to_string(k.min) + "-" +
                                 std::to_string(k.max));
    return n;
  }

  const AbstractConfiguration& c_;
};

/// One item of route.<name>.targets: a URL, optionally followed by `weight=N` as in nginx.
TargetSpec parseTargetItem(const std::string& item, const std::string& key) {
  Poco::StringTokenizer words(
      item, " \t", Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
  TargetSpec target("");
  try {
    target.url = parseTargetUrl(words[0]).canonical;
  } catch (const InvalidInput& e) {
    throw ConfigError(key, e.what());
  }
  for (std::size_t i = 1; i < words.count(); ++i) {
    const std::string& word = words[i];
    int weight = 0;
    if (word.rfind("weight=", 0) != 0 || !Poco::NumberParser::tryParse(word.substr(7), weight))
      throw ConfigError(key, "'" + word + "' after " + words[0] +
                                 " is not weight=N (targets are URLs, each optionally followed "
                                 "by weight=N)");
    if (weight < 0 || weight > kMaxWeight)
      throw ConfigError(key, "weight " + std::to_string(weight) + " of " + words[0] +
                                 " is out of range 0-" + std::to_string(kMaxWeight));
    target.weight = weight;
  }
  return target;
}

/// `base`.interval ... (`health` or `route.<name>.health`), with `def` for what is absent.
HealthSpec readHealth(const Reader& r, const std::string& base, const HealthSpec& def) {
  HealthSpec h;
  h.interval = r.duration(base + ".interval", def.interval, "health.interval");
  h.timeout = r.duration(base + ".timeout", def.timeout, "health.timeout");
  h.fall = r.integer(base + ".fall", def.fall, "health.fall");
  h.rise = r.integer(base + ".rise", def.rise, "health.rise");
  h.type = r.parsed(base + ".type", toString(def.type), parseProbeType);
  h.path = r.text(base + ".path", def.path);
  h.grpcService = r.text(base + ".grpc_service", def.grpcService);
  h.slowStart = r.duration(base + ".slow_start", def.slowStart, "health.slow_start");
  try {
    HealthSpec::validateGrpcService(h.grpcService);
  } catch (const InvalidInput& e) {
    throw ConfigError(base + ".grpc_service", e.what());
  }
  // The other fields were range-checked as they were read, so only the path is left to fail.
  try {
    h.validate();
  } catch (const InvalidInput& e) {
    throw ConfigError(base + ".path", e.what());
  }
  return h;
}

/// Throws ConfigError for a key directly under `parent` that config/SettingKeys does not know.
void rejectUnknown(const AbstractConfiguration& c, const std::string& parent,
                   const std::string& tableParent) {
  const auto children = settingChildren(tableParent);
  AbstractConfiguration::Keys keys;
  c.keys(parent, keys);
  for (const auto& k : keys)
    if (std::find(children.begin(), children.end(), k) == children.end())
      throw ConfigError(parent + "." + k, "unknown configuration key");
}

/// Every parent of a key outside routes (store, proxy, proxy.tls, ...): their children are
/// checked against the table; route.<name>.* is checked route by route.
void rejectUnknownKeys(const AbstractConfiguration& c) {
  std::vector<std::string> parents;
  for (const auto& key : settingKeys()) {
    if (key.name.rfind("route.", 0) == 0) continue;
    for (auto dot = key.name.find('.'); dot != std::string_view::npos;
         dot = key.name.find('.', dot + 1)) {
      const std::string parent(key.name.substr(0, dot));
      if (std::find(parents.begin(), parents.end(), parent) == parents.end())
        parents.push_back(parent);
    }
  }
  for (const auto& parent : parents) rejectUnknown(c, parent, parent);
}

/// health.* as the table gives them, the base every route's checks inherit from.
HealthSpec tableHealth() {
  const auto number = [](std::string_view name) {
    return std::stoi(std::string(settingKey(name).byDefault));
  };
  HealthSpec h;
  h.interval = parseDuration(settingKey("health.interval").byDefault);
  h.timeout = parseDuration(settingKey("health.timeout").byDefault);
  h.fall = number("health.fall");
  h.rise = number("health.rise");
  h.type = parseProbeType(std::string(settingKey("health.type").byDefault));
  h.path = std::string(settingKey("health.path").byDefault);
  h.grpcService = std::string(settingKey("health.grpc_service").byDefault);
  h.slowStart = parseDuration(settingKey("health.slow_start").byDefault);
  return h;
}

/// libpq's own parser decides, so --check refuses what the store would fail to connect with.
void checkPostgresUri(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (!options) {
    std::string why = error ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && std::isspace(static_cast<unsigned char>(why.back()))) why.pop_back();
    throw ConfigError("store.url", "not a PostgreSQL connection URI (" + why +
                                       "); expected postgresql://user:password@host:port/dbname");
  }
  PQconninfoFree(options);
}

void readStore(const Reader& r, Settings& s) {
  s.storePath = r.nonEmpty("store.path");
  s.storeUrl = r.text("store.url");
  if (!s.storeUrl.empty()) checkPostgresUri(s.storeUrl);
  s.historyLimit = r.integer("store.history_limit");
}

void readProxyTimeouts(const Reader& r, ProxySettings& p) {
  p.reloadInterval = r.duration("proxy.reload_interval");
  p.connectTimeout = r.duration("proxy.connect_timeout");
  p.readTimeout = r.duration("proxy.read_timeout");
  p.retryBuffer = r.integer("proxy.retry_buffer");
  p.keepAliveTimeout = r.duration("proxy.keepalive_timeout");
  p.clientHeaderTimeout = r.duration("proxy.client_header_timeout");
  p.clientBodyTimeout = r.duration("proxy.client_body_timeout");
  p.sendTimeout = r.duration("proxy.send_timeout");
  p.drainTimeout = r.duration("proxy.drain_timeout");
}

void readAccessLog(const Reader& r, ProxySettings& p) {
  p.accessLog = r.nonEmpty("proxy.access_log", " (use stdout, off or a file path)");
  p.accessLogFormat = r.text("proxy.access_log_format");
  if (p.accessLogFormat != "portico" && p.accessLogFormat != "combined" &&
      p.accessLogFormat != "json")
    throw ConfigError("proxy.access_log_format",
                      "'" + p.accessLogFormat + "' is not portico, combined or json");
  const std::string sample = r.text("proxy.trace_sample");
  std::size_t used = 0;
  try {
    p.traceSample = std::stod(sample, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != sample.size() || !(p.traceSample >= 0 && p.traceSample <= 1))
    throw ConfigError("proxy.trace_sample", "'" + sample + "' is not a number from 0 to 1");
}

void readStatusListener(const Reader& r, ProxySettings& p) {
  p.statusHost = r.nonEmpty("proxy.status_host", " (use an address, or off)");
  const auto port = p.statusHost == "off" ? std::nullopt : r.portOrOff("proxy.status_port");
  p.statusEnabled = port.has_value();
  if (!port) return;
  p.statusPort = *port;
  if (p.statusPort == p.port)
    throw ConfigError("proxy.status_port",
                      std::to_string(p.statusPort) +
                          " is the data-plane port (proxy.port); metrics need their own");
}

/// proxy.tls.*: read only when the HTTPS listener is on.
void readTlsListener(const Reader& r, ProxySettings& p) {
  const auto port = r.portOrOff("proxy.tls.port");
  if (!port) return;
  p.tls.enabled = true;
  p.tls.port = *port;
  if (p.tls.port == p.port)
    throw ConfigError("proxy.tls.port",
                      r.text("proxy.tls.port", "") + " is the plain listener's port (proxy.port)");
  p.tls.host = r.text("proxy.tls.host", p.host);
  if (p.tls.host.empty()) throw ConfigError("proxy.tls.host", "is empty");
  for (const auto& pair : r.list("proxy.tls.certificates")) {
    const auto colon = pair.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == pair.size())
      throw ConfigError("proxy.tls.certificates",
                        "'" + pair + "' is not CERTIFICATE:KEY (two PEM files)");
    p.tls.certificates.emplace_back(Poco::trim(pair.substr(0, colon)),
                                    Poco::trim(pair.substr(colon + 1)));
  }
  if (p.tls.certificates.empty())
    throw ConfigError("proxy.tls.certificates",
                      "is required with proxy.tls.port (CERTIFICATE:KEY, ...)");
  p.tls.http2 = r.boolean("proxy.tls.http2");
}

/// The proxy's row in the store's proxies table (the bound port completes the default id).
void readProxyRegistry(const Reader& r, ProxySettings& p) {
  p.id = r.text("proxy.id", "");
  if (p.id.size() > 200) throw ConfigError("proxy.id", "is longer than 200 characters");
  p.heartbeatInterval = r.duration("proxy.heartbeat_interval");
  // Shorter than three heartbeats, a silent proxy is forgotten without being shown stale first.
  p.forgetAfter = r.duration("proxy.forget_after");
}

void readProxy(const Reader& r, ProxySettings& p) {
  p.host = r.nonEmpty("proxy.host");
  p.port = r.integer("proxy.port");
  readProxyTimeouts(r, p);
  readProxyRegistry(r, p);
  p.threads = r.integer("proxy.threads");
  p.workers = r.integer("proxy.workers");
  p.queue = r.integer("proxy.queue");
  p.maxConnections = r.integer("proxy.max_connections");
  p.maxHeaderBytes = r.integer("proxy.max_header_bytes");
  readAccessLog(r, p);
  readStatusListener(r, p);
  p.trustedProxies = r.list("proxy.trusted_proxies");
  readTlsListener(r, p);
}

void readAdmin(const Reader& r, AdminSettings& a) {
  a.host = r.nonEmpty("admin.host");
  a.port = r.integer("admin.port");
  a.prefix = r.parsed("admin.prefix", [](const std::string& p) {
    std::string n = normalizePrefix(p);
    if (n == "/") throw InvalidInput("may not be '/'");
    if (n == "/metrics/") throw InvalidInput("may not be '/metrics' (the sidecar's metrics)");
    n.pop_back();
    return n;
  });
  a.token = r.text("admin.token");
  a.clientHeaderTimeout = r.duration("admin.client_header_timeout");
  a.clientBodyTimeout = r.duration("admin.client_body_timeout");
}

void readSidecar(const Reader& r, int adminPort, SidecarSettings& sidecar) {
  sidecar.leaseTimeout = r.duration("health.lease_timeout");
  sidecar.keepAliveMax = static_cast<std::size_t>(r.integer("health.keepalive_max"));
  sidecar.id =
      r.text("sidecar.id", Poco::Environment::nodeName() + ":" + std::to_string(adminPort));
  if (sidecar.id.empty()) throw ConfigError("sidecar.id", "is empty");
  if (sidecar.id.size() > 200) throw ConfigError("sidecar.id", "is longer than 200 characters");
}

/// route.<name>.*: a key outside the table (route.<name>.weight) is refused.
void rejectUnknownRouteKeys(const AbstractConfiguration& config, const std::string& base) {
  const auto known = settingChildren("route.<name>");
  AbstractConfiguration::Keys sub;
  config.keys(base, sub);
  for (const auto& k : sub) {
    if (std::find(known.begin(), known.end(), k) == known.end())
      throw ConfigError(base + "." + k, "unknown configuration key");
    if (k == "health" || k == "retries" || k == "outlier_detection" || k == "rate_limit" ||
        k == "request_headers" || k == "response_headers")
      rejectUnknown(config, base + "." + k, "route.<name>." + k);
  }
}

/// How a resilience key's text becomes its JSON field.
enum class ResilienceKind { Number, Text, List, Flag };

/// One route.<name>.* key of the resilience policy and the body field it stands for.
struct ResilienceKey {
  const char* key;     // under route.<name>.
  const char* object;  // the body field holding it ("" for a top-level field)
  const char* field;
  ResilienceKind kind;
};

constexpr ResilienceKey kResilienceKeys[] = {
    {"retries.attempts", "retries", "attempts", ResilienceKind::Number},
    {"retries.on", "retries", "on", ResilienceKind::List},
    {"retries.per_try_timeout", "retries", "perTryTimeout", ResilienceKind::Text},
    {"retries.budget_percent", "retries", "budgetPercent", ResilienceKind::Number},
    {"retries.non_idempotent", "retries", "nonIdempotent", ResilienceKind::Flag},
    {"outlier_detection.consecutive_errors", "outlierDetection", "consecutiveErrors",
     ResilienceKind::Number},
    {"outlier_detection.errors", "outlierDetection", "errors", ResilienceKind::Text},
    {"outlier_detection.base_ejection_time", "outlierDetection", "baseEjectionTime",
     ResilienceKind::Text},
    {"outlier_detection.max_ejection_percent", "outlierDetection", "maxEjectionPercent",
     ResilienceKind::Number},
    {"max_requests", "", "maxRequests", ResilienceKind::Number},
    {"rate_limit.requests_per_second", "rateLimit", "requestsPerSecond", ResilienceKind::Number},
    {"rate_limit.burst", "rateLimit", "burst", ResilienceKind::Number},
    {"rate_limit.by", "rateLimit", "by", ResilienceKind::Text},
};

/// The text `value` of `key` as the JSON value its field takes; a number or a flag that does
/// not parse is refused here, naming the key, the rest by the policy's reader.
Poco::Dynamic::Var resilienceValue(const std::string& key, const std::string& value,
                                   ResilienceKind kind) {
  switch (kind) {
    case ResilienceKind::Number: {
      Poco::Int64 n = 0;
      if (!Poco::NumberParser::tryParse64(value, n))
        throw ConfigError(key, "'" + value + "' is not an integer");
      return n;
    }
    case ResilienceKind::Flag: {
      const std::optional<bool> on = flagValue(Poco::toLower(value));
      if (!on) throw ConfigError(key, "'" + value + "' is not true or false");
      return *on;
    }
    case ResilienceKind::List: {
      Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
      for (const auto& item : splitList(value)) items->add(item);
      return items;
    }
    case ResilienceKind::Text:
      break;
  }
  return value;
}

/// route.<name>.retries.*, .outlier_detection.*, .max_requests, .rate_limit.*: each key present
/// becomes its field of the route body and is read by the policy itself (ResiliencePolicy), so
/// the keys and the API validate alike; a refusal names the key.
void readResilience(const Reader& r, const std::string& base, ResiliencePolicy& policy) {
  for (const ResilienceKey& k : kResilienceKeys) {
    const std::string key = base + "." + k.key;
    if (!r.has(key)) continue;
    const auto body = fieldBody(k.object, k.field, resilienceValue(key, r.text(key, ""), k.kind));
    try {
      policy.read(*body);
    } catch (const InvalidInput& e) {
      throw ConfigError(key, e.what());
    }
  }
}

/// route.<name>.request_headers.* or .response_headers.* as the API's {set, add, remove}.
Poco::JSON::Object::Ptr headerEditsOf(const AbstractConfiguration& config, const Reader& r,
                                      const std::string& base) {
  auto edits = jsonObject();
  for (const char* kind : {"set", "add"}) {
    auto pairs = jsonObject();
    AbstractConfiguration::Keys names;
    config.keys(base + "." + kind, names);
    for (const auto& name : names) pairs->set(name, r.text(base + "." + kind + "." + name, ""));
    edits->set(kind, pairs);
  }
  Poco::JSON::Array::Ptr remove = new Poco::JSON::Array;
  for (const auto& name : splitList(r.text(base + ".remove", ""))) remove->add(name);
  edits->set("remove", remove);
  return edits;
}

/// route.<name>.strip_prefix ... max_body_size: each key goes through RequestPolicy::read, the
/// admin API's rules, and an error names the key.
RequestPolicy readRequestPolicy(const AbstractConfiguration& config, const Reader& r,
                                const std::string& base) {
  RequestPolicy policy;
  const auto apply = [&](const std::string& suffix, const std::string& field,
                         const Poco::Dynamic::Var& value) {
    const auto body = fieldBody("", field, value);
    try {
      policy.read(*body);
    } catch (const InvalidInput& e) {
      throw ConfigError(base + "." + suffix, e.what());
    }
  };
  const auto flag = [&](const std::string& suffix, const char* field) {
    if (r.has(base + "." + suffix))
      apply(suffix, field, r.boolean(base + "." + suffix, "route.<name>." + suffix));
  };
  flag("strip_prefix", "stripPrefix");
  flag("preserve_host", "preserveHost");
  if (r.has(base + ".rewrite_prefix"))
    apply("rewrite_prefix", "rewritePrefix", r.text(base + ".rewrite_prefix", ""));
  for (const auto& [suffix, field] :
       {std::pair<std::string, const char*>{"request_headers", "requestHeaders"},
        {"response_headers", "responseHeaders"}}) {
    AbstractConfiguration::Keys given;
    config.keys(base + "." + suffix, given);
    if (!given.empty()) apply(suffix, field, headerEditsOf(config, r, base + "." + suffix));
  }
  const std::chrono::milliseconds none(0);
  policy.timeouts.connect =
      r.duration(base + ".connect_timeout", none, "route.<name>.connect_timeout");
  policy.timeouts.read = r.duration(base + ".read_timeout", none, "route.<name>.read_timeout");
  policy.timeouts.send = r.duration(base + ".send_timeout", none, "route.<name>.send_timeout");
  const std::string size = r.text(base + ".max_body_size", "");
  if (!size.empty()) apply("max_body_size", "maxBodySize", size);
  return policy;
}

RouteSeed readRoute(const AbstractConfiguration& config, const Reader& r, const std::string& name,
                    const HealthSpec& health) {
  const std::string base = "route." + name;
  RouteSeed seed;
  seed.name = name;
  if (!r.has(base + ".prefix"))
    throw ConfigError(base + ".prefix", "is required for route '" + name + "'");
  seed.spec.prefix = r.parsed(base + ".prefix", "", normalizePrefix);
  seed.spec.host = r.parsed(base + ".host", "", normalizeHost);
  const auto& balancer = settingKey("route.<name>.balancer");
  seed.spec.balancer = r.parsed(base + ".balancer", std::string(balancer.byDefault), parseBalancer);
  seed.spec.health = readHealth(r, base + ".health", health);
  const auto& protocol = settingKey("route.<name>.upstream_protocol");
  seed.spec.policies.upstream.protocol =
      r.parsed(base + ".upstream_protocol", std::string(protocol.byDefault),
               [](const std::string& text) { return parseUpstreamProtocol(text); });
  seed.spec.policies.request = readRequestPolicy(config, r, base);
  readResilience(r, base, seed.spec.policies.resilience);
  std::set<std::string> seen;
  for (const auto& t : splitList(r.text(base + ".targets", ""))) {
    TargetSpec target = parseTargetItem(t, base + ".targets");
    if (seen.insert(target.url).second) seed.spec.targets.push_back(std::move(target));
  }
  return seed;
}

void readRoutes(const AbstractConfiguration& config, const Reader& r, Settings& s) {
  AbstractConfiguration::Keys names;
  config.keys("route", names);
  std::set<RouteKey> keys;
  for (const auto& name : names) {
    rejectUnknownRouteKeys(config, "route." + name);
    RouteSeed seed = readRoute(config, r, name, s.health);
    if (!keys.insert(seed.spec.key()).second)
      throw ConfigError("route." + name + ".prefix",
                        "'" + seed.spec.key().text() + "' is declared by another route");
    s.routes.push_back(std::move(seed));
  }
}

}  // namespace

void Settings::rejectUnknownSections(const AbstractConfiguration& layer) {
  static const std::vector<std::string> known = settingSections();
  AbstractConfiguration::Keys roots;
  layer.keys(roots);
  for (const auto& root : roots)
    if (std::find(known.begin(), known.end(), root) == known.end())
      // A line "= value" in a file has an empty key: it must still be named.
      throw ConfigError(
          root.empty() ? "''" : root,
          "unknown configuration key (sections: store, proxy, admin, sidecar, health, log, "
          "route, upstream_tls)");
}

std::pair<std::string, std::string> Settings::parseDefine(const std::string& define) {
  const auto eq = define.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--define", "'" + printable(define, 80) + "' is not key=value");
  return {define.substr(0, eq), define.substr(eq + 1)};
}

Settings Settings::load(const AbstractConfiguration& config) {
  const Reader r(config);
  Settings s;
  rejectUnknownKeys(config);
  readStore(r, s);
  readProxy(r, s.proxy);
  s.upstreamTls.verify = r.boolean("upstream_tls.verify");
  s.upstreamTls.caFile = r.text("upstream_tls.ca_file");
  readAdmin(r, s.admin);
  s.health = readHealth(r, "health", tableHealth());
  readSidecar(r, s.admin.port, s.sidecar);
  s.log.level = r.parsed("log.level", parseLogLevel);
  s.log.format = r.parsed("log.format", parseLogFormat);
  readRoutes(config, r, s);
  return s;
}

}  // namespace portico
