#include "config/Settings.h"

#include <Poco/Environment.h>
#include <Poco/Exception.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>
#include <Poco/Util/AbstractConfiguration.h>
#include <libpq-fe.h>

#include <cctype>
#include <set>

#include "base/Duration.h"
#include "base/Errors.h"
#include "base/Utf8.h"
#include "model/Normalize.h"

namespace portico {
namespace {

using Poco::Util::AbstractConfiguration;

/// Reads one key at a time, turning every parse failure into a ConfigError naming the key.
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

  bool boolean(const std::string& key, bool def) const {
    if (!has(key)) return def;
    const std::string v = Poco::toLower(text(key, ""));
    if (v == "true" || v == "on" || v == "yes" || v == "1") return true;
    if (v == "false" || v == "off" || v == "no" || v == "0") return false;
    throw ConfigError(key, "'" + v + "' is not true or false");
  }

  int integer(const std::string& key, int def, int min, int max) const {
    if (!has(key)) return def;
    const std::string v = text(key, "");
    int n = 0;
    if (!Poco::NumberParser::tryParse(v, n))
      throw ConfigError(key, "'" + v + "' is not an integer");
    if (n < min || n > max)
      throw ConfigError(key, std::to_string(n) + " is out of range " + std::to_string(min) + "-" +
                                 std::to_string(max));
    return n;
  }

  std::chrono::milliseconds duration(const std::string& key, std::chrono::milliseconds def,
                                     std::chrono::milliseconds min) const {
    if (!has(key)) return def;
    std::chrono::milliseconds d;
    try {
      d = parseDuration(text(key, ""));
    } catch (const InvalidInput& e) {
      throw ConfigError(key, e.what());
    }
    if (d < min) throw ConfigError(key, "must be at least " + formatDuration(min));
    return d;
  }

  template <typename F>
  auto parsed(const std::string& key, const std::string& def, F parse) const {
    try {
      return parse(text(key, def));
    } catch (const InvalidInput& e) {
      throw ConfigError(key, e.what());
    }
  }

 private:
  const AbstractConfiguration& c_;
};

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  Poco::StringTokenizer tok(
      s, ",", Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
  for (const auto& t : tok) out.push_back(t);
  return out;
}

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

HealthSpec readHealth(const Reader& r, const std::string& base, const HealthSpec& def) {
  HealthSpec h;
  h.interval = r.duration(base + ".interval", def.interval, std::chrono::milliseconds(10));
  h.timeout = r.duration(base + ".timeout", def.timeout, std::chrono::milliseconds(1));
  h.fall = r.integer(base + ".fall", def.fall, 1, 1000);
  h.rise = r.integer(base + ".rise", def.rise, 1, 1000);
  h.type = r.parsed(base + ".type", toString(def.type), parseProbeType);
  h.path = r.text(base + ".path", def.path);
  h.slowStart = r.duration(base + ".slow_start", def.slowStart, std::chrono::milliseconds(0));
  // The other fields were range-checked as they were read, so only the path is left to fail.
  try {
    h.validate();
  } catch (const InvalidInput& e) {
    throw ConfigError(base + ".path", e.what());
  }
  return h;
}

void rejectUnknown(const AbstractConfiguration& c, const std::string& section,
                   const std::set<std::string>& known) {
  AbstractConfiguration::Keys keys;
  c.keys(section, keys);
  for (const auto& k : keys)
    if (!known.count(k)) throw ConfigError(section + "." + k, "unknown configuration key");
}

}  // namespace

void Settings::rejectUnknownSections(const AbstractConfiguration& layer) {
  static const std::set<std::string> known{"store",  "proxy", "admin",        "sidecar",
                                           "health", "log",   "upstream_tls", "route"};
  AbstractConfiguration::Keys roots;
  layer.keys(roots);
  for (const auto& root : roots)
    if (!known.count(root))
      // A line "= value" in a file has an empty key; it must still be named.
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
  rejectUnknown(config, "store", {"path", "url", "history_limit"});
  rejectUnknown(config, "sidecar", {"id"});
  rejectUnknown(config, "proxy",
                {"host",
                 "port",
                 "reload_interval",
                 "connect_timeout",
                 "read_timeout",
                 "threads",
                 "queue",
                 "access_log",
                 "access_log_format",
                 "trusted_proxies",
                 "status_host",
                 "status_port",
                 "workers",
                 "max_connections",
                 "keepalive_timeout",
                 "client_header_timeout",
                 "client_body_timeout",
                 "send_timeout",
                 "drain_timeout",
                 "max_header_bytes",
                 "tls"});
  rejectUnknown(config, "proxy.tls", {"port", "host", "certificates", "http2"});
  rejectUnknown(config, "upstream_tls", {"verify", "ca_file"});
  rejectUnknown(config, "log", {"level", "format"});
  rejectUnknown(
      config, "admin",
      {"host", "port", "prefix", "token", "client_header_timeout", "client_body_timeout"});
  rejectUnknown(
      config, "health",
      {"interval", "timeout", "fall", "rise", "type", "path", "slow_start", "lease_timeout"});

  s.storePath = r.text("store.path", s.storePath);
  if (s.storePath.empty()) throw ConfigError("store.path", "is empty");
  s.storeUrl = Poco::trim(r.text("store.url", ""));
  if (!s.storeUrl.empty()) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(s.storeUrl.c_str(), &error);
    if (!options) {
      std::string why = error ? error : "out of memory";
      PQfreemem(error);
      while (!why.empty() && std::isspace(static_cast<unsigned char>(why.back()))) why.pop_back();
      throw ConfigError("store.url", "not a PostgreSQL connection URI (" + why +
                                         "); expected postgresql://user:password@host:port/dbname");
    }
    PQconninfoFree(options);
  }
  s.historyLimit = r.integer("store.history_limit", static_cast<int>(s.historyLimit), 1, 100000000);

  s.proxy.host = r.text("proxy.host", s.proxy.host);
  if (s.proxy.host.empty()) throw ConfigError("proxy.host", "is empty");
  s.proxy.port = r.integer("proxy.port", s.proxy.port, 1, 65535);
  s.proxy.reloadInterval =
      r.duration("proxy.reload_interval", s.proxy.reloadInterval, std::chrono::milliseconds(10));
  s.proxy.connectTimeout =
      r.duration("proxy.connect_timeout", s.proxy.connectTimeout, std::chrono::milliseconds(1));
  s.proxy.readTimeout =
      r.duration("proxy.read_timeout", s.proxy.readTimeout, std::chrono::milliseconds(1));
  s.proxy.threads = r.integer("proxy.threads", s.proxy.threads, 0, 20000);
  s.proxy.workers = r.integer("proxy.workers", s.proxy.workers, 0, 256);
  s.proxy.queue = r.integer("proxy.queue", s.proxy.queue, 1, 100000);
  s.proxy.maxConnections = r.integer("proxy.max_connections", s.proxy.maxConnections, 1, 1000000);
  s.proxy.keepAliveTimeout =
      r.duration("proxy.keepalive_timeout", s.proxy.keepAliveTimeout, std::chrono::milliseconds(1));
  s.proxy.clientHeaderTimeout = r.duration(
      "proxy.client_header_timeout", s.proxy.clientHeaderTimeout, std::chrono::milliseconds(1));
  s.proxy.clientBodyTimeout = r.duration("proxy.client_body_timeout", s.proxy.clientBodyTimeout,
                                         std::chrono::milliseconds(1));
  s.proxy.sendTimeout =
      r.duration("proxy.send_timeout", s.proxy.sendTimeout, std::chrono::milliseconds(1));
  s.proxy.drainTimeout =
      r.duration("proxy.drain_timeout", s.proxy.drainTimeout, std::chrono::milliseconds(0));
  s.proxy.maxHeaderBytes =
      r.integer("proxy.max_header_bytes", s.proxy.maxHeaderBytes, 1024, 1024 * 1024);
  s.proxy.accessLog = r.text("proxy.access_log", s.proxy.accessLog);
  if (s.proxy.accessLog.empty())
    throw ConfigError("proxy.access_log", "is empty (use stdout, off or a file path)");
  s.proxy.accessLogFormat = r.text("proxy.access_log_format", s.proxy.accessLogFormat);
  if (s.proxy.accessLogFormat != "portico" && s.proxy.accessLogFormat != "combined" &&
      s.proxy.accessLogFormat != "json")
    throw ConfigError("proxy.access_log_format",
                      "'" + s.proxy.accessLogFormat + "' is not portico, combined or json");
  s.proxy.statusHost = r.text("proxy.status_host", s.proxy.statusHost);
  if (s.proxy.statusHost.empty())
    throw ConfigError("proxy.status_host", "is empty (use an address, or off)");
  if (s.proxy.statusHost == "off" || r.text("proxy.status_port", "") == "off") {
    s.proxy.statusEnabled = false;
  } else {
    s.proxy.statusPort = r.integer("proxy.status_port", s.proxy.statusPort, 1, 65535);
    if (s.proxy.statusPort == s.proxy.port)
      throw ConfigError("proxy.status_port",
                        std::to_string(s.proxy.statusPort) +
                            " is the data-plane port (proxy.port); metrics need their own");
  }
  if (r.has("proxy.trusted_proxies"))
    s.proxy.trustedProxies = splitList(r.text("proxy.trusted_proxies", ""));

  const std::string tlsPort = r.text("proxy.tls.port", "off");
  if (tlsPort != "off") {
    s.proxy.tls.enabled = true;
    s.proxy.tls.port = r.integer("proxy.tls.port", 0, 1, 65535);
    if (s.proxy.tls.port == s.proxy.port)
      throw ConfigError("proxy.tls.port", tlsPort + " is the plain listener's port (proxy.port)");
    s.proxy.tls.host = r.text("proxy.tls.host", s.proxy.host);
    if (s.proxy.tls.host.empty()) throw ConfigError("proxy.tls.host", "is empty");
    for (const auto& pair : splitList(r.text("proxy.tls.certificates", ""))) {
      const auto colon = pair.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == pair.size())
        throw ConfigError("proxy.tls.certificates",
                          "'" + pair + "' is not CERTIFICATE:KEY (two PEM files)");
      s.proxy.tls.certificates.emplace_back(Poco::trim(pair.substr(0, colon)),
                                            Poco::trim(pair.substr(colon + 1)));
    }
    if (s.proxy.tls.certificates.empty())
      throw ConfigError("proxy.tls.certificates",
                        "is required with proxy.tls.port (CERTIFICATE:KEY, ...)");
    s.proxy.tls.http2 = r.boolean("proxy.tls.http2", true);
  }
  s.upstreamTls.verify = r.boolean("upstream_tls.verify", true);
  s.upstreamTls.caFile = r.text("upstream_tls.ca_file", "");

  s.admin.host = r.text("admin.host", s.admin.host);
  if (s.admin.host.empty()) throw ConfigError("admin.host", "is empty");
  s.admin.port = r.integer("admin.port", s.admin.port, 1, 65535);
  s.admin.prefix = r.parsed("admin.prefix", s.admin.prefix, [](const std::string& p) {
    std::string n = normalizePrefix(p);
    if (n == "/") throw InvalidInput("may not be '/'");
    if (n == "/metrics/") throw InvalidInput("may not be '/metrics' (the sidecar's metrics)");
    n.pop_back();
    return n;
  });
  s.admin.token = r.text("admin.token", "");
  s.admin.clientHeaderTimeout = r.duration(
      "admin.client_header_timeout", s.admin.clientHeaderTimeout, std::chrono::milliseconds(1));
  s.admin.clientBodyTimeout = r.duration("admin.client_body_timeout", s.admin.clientBodyTimeout,
                                         std::chrono::milliseconds(1));

  s.health = readHealth(r, "health", s.health);
  s.sidecar.leaseTimeout =
      r.duration("health.lease_timeout", s.sidecar.leaseTimeout, std::chrono::milliseconds(100));
  s.sidecar.id = Poco::trim(
      r.text("sidecar.id", Poco::Environment::nodeName() + ":" + std::to_string(s.admin.port)));
  if (s.sidecar.id.empty()) throw ConfigError("sidecar.id", "is empty");
  if (s.sidecar.id.size() > 200) throw ConfigError("sidecar.id", "is longer than 200 characters");

  s.log.level = r.parsed("log.level", "info", parseLogLevel);
  s.log.format = r.parsed("log.format", "text", parseLogFormat);

  {
    AbstractConfiguration::Keys names;
    config.keys("route", names);
    std::set<std::string> prefixes;
    for (const auto& name : names) {
      const std::string base = "route." + name;
      AbstractConfiguration::Keys sub;
      config.keys(base, sub);
      for (const auto& k : sub) {
        if (k == "health") {
          rejectUnknown(config, base + ".health",
                        {"interval", "timeout", "fall", "rise", "type", "path", "slow_start"});
        } else if (k != "prefix" && k != "targets" && k != "balancer") {
          throw ConfigError(base + "." + k, "unknown configuration key");
        }
      }
      RouteSeed seed;
      seed.name = name;
      if (!r.has(base + ".prefix"))
        throw ConfigError(base + ".prefix", "is required for route '" + name + "'");
      seed.spec.prefix = r.parsed(base + ".prefix", "", normalizePrefix);
      if (!prefixes.insert(seed.spec.prefix).second)
        throw ConfigError(base + ".prefix",
                          "'" + seed.spec.prefix + "' is declared by another route");
      seed.spec.balancer = r.parsed(base + ".balancer", "round_robin", parseBalancer);
      seed.spec.health = readHealth(r, base + ".health", s.health);
      std::set<std::string> seen;
      for (const auto& t : splitList(r.text(base + ".targets", ""))) {
        TargetSpec target = parseTargetItem(t, base + ".targets");
        if (seen.insert(target.url).second) seed.spec.targets.push_back(std::move(target));
      }
      s.routes.push_back(std::move(seed));
    }
  }
  return s;
}

}  // namespace portico
