#pragma once

// Shared by the proxy end-to-end suites: a temp store, the real sidecar, real echo backends and
// real portico-proxy processes on ephemeral 127.0.0.1 ports.

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/StreamSocket.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support/RawClient.h"
#include "support/RouteBodies.h"
#include "support/TestSupport.h"

namespace portico::test {

using namespace std::chrono_literals;

/// The value of the sample `series` (name with its labels, as exposed) in a /metrics text, NaN
/// when absent.
inline double metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  }
  return std::nan("");
}

/// The parsed JSON of a portico-echo answer (or of an error body).
inline Poco::JSON::Object::Ptr json(const std::string& text) {
  try {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    CPPUNIT_FAIL("not JSON (" + e.displayText() + "): " + text.substr(0, 300));
  }
  return nullptr;
}

inline std::string field(const std::string& text, const std::string& name) {
  auto o = json(text);
  return o->has(name) ? o->getValue<std::string>(name) : "";
}

/// Like field() but "" for a body that is not JSON (for polling while things change).
inline std::string tryField(const std::string& text, const std::string& name) {
  try {
    auto o = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
    return o && o->has(name) ? o->getValue<std::string>(name) : "";
  } catch (const Poco::Exception&) {
    return "";
  }
}

/// Lower-case header `name` as the echo backend received it ("" when absent).
inline std::string echoedHeader(const std::string& text, const std::string& name) {
  auto headers = json(text)->getObject("headers");
  return headers && headers->has(name) ? headers->getValue<std::string>(name) : "";
}

inline bool echoHasHeader(const std::string& text, const std::string& name) {
  auto headers = json(text)->getObject("headers");
  return headers && headers->has(name);
}

/// 64-bit FNV-1a, as portico-echo reports bodies (bodyFnv1a).
class Fnv {
 public:
  void update(const char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      h_ ^= static_cast<unsigned char>(p[i]);
      h_ *= 1099511628211ULL;
    }
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
    return buf;
  }

 private:
  unsigned long long h_{14695981039346656037ULL};
};

/// A value from /proc/<pid>/status in kB (VmHWM: peak resident set).
inline long procStatusKb(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
  }
  return -1;
}

/// Established TCP connections whose remote end is 127.0.0.1:port (seen from any local process).
inline int connectionsTo(int port) {
  int count = 0;
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);
  char remote[16];
  std::snprintf(remote, sizeof remote, "0100007F:%04X", port);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, rem, state;
    fields >> slot >> local >> rem >> state;
    if (rem == remote && state == "01") ++count;
  }
  return count;
}

/// `count` slow GETs of `path` on the proxy on `proxyPort`, each on a connection and thread of
/// its own. No assertion may throw while they run: the answers are checked after join().
class SlowRequests {
 public:
  SlowRequests(int proxyPort, const std::string& path, int count) : results_(count) {
    for (int i = 0; i < count; ++i) {
      clients_.spawn(
          [this, proxyPort, path, i] { results_[i] = http(proxyPort, "GET", path, "", {}, 20s); });
    }
  }
  /// True once the proxy holds a connection per request to the target on `targetPort` (an idle
  /// pooled connection is reused first): every request has then reached that target.
  bool reached(int targetPort) const {
    const int count = static_cast<int>(results_.size());
    return waitUntil([&] { return connectionsTo(targetPort) >= count; }, 10s);
  }
  const std::vector<HttpResult>& join() {
    clients_.join();
    return results_;
  }

 private:
  std::vector<HttpResult> results_;
  ThreadGroup clients_;
};

/// One temp store with the sidecar on it, echo backends and proxies started on demand.
class Stack {
 public:
  Stack() : adminPort_(freePort()) {
    sidecar_ = std::make_unique<ChildProcess>(
        binary("portico-sidecar"),
        std::vector<std::string>{"--define=store.path=" + store(),
                                 "--define=admin.port=" + std::to_string(adminPort_)},
        dir_.file("sidecar.log"), dir_.path());
    if (!waitForPort(adminPort_)) CPPUNIT_FAIL("sidecar did not start: " + sidecar_->log());
  }

  std::string store() const { return dir_.file("portico.db"); }
  const TempDir& dir() const { return dir_; }
  int adminPort() const { return adminPort_; }

  /// Starts portico-echo named `name`; returns its port.
  int echo(const std::string& name, const std::vector<std::string>& extra = {}) {
    const int port = freePort();
    std::vector<std::string> args{"--port=" + std::to_string(port), "--name=" + name};
    args.insert(args.end(), extra.begin(), extra.end());
    echos_[name] = std::make_unique<ChildProcess>(binary("portico-echo"), args,
                                                  dir_.file("echo-" + name + ".log"), dir_.path());
    echoPorts_[name] = port;
    if (!waitForPort(port)) CPPUNIT_FAIL("echo " + name + " did not start");
    return port;
  }
  std::string url(const std::string& echoName) const {
    return "http://127.0.0.1:" + std::to_string(echoPorts_.at(echoName));
  }
  int echoPort(const std::string& echoName) const { return echoPorts_.at(echoName); }
  ChildProcess& echoProcess(const std::string& name) { return *echos_.at(name); }

  /// Starts a portico-proxy with extra --define=key=value settings; returns its port.
  int proxy(const std::vector<std::string>& defines = {}) {
    const int port = freePort();
    std::vector<std::string> args{
        "--define=store.path=" + store(), "--define=proxy.port=" + std::to_string(port),
        "--define=proxy.host=127.0.0.1", "--define=proxy.reload_interval=50ms"};
    bool statusGiven = false;
    for (const auto& d : defines) {
      args.push_back("--define=" + d);
      statusGiven = statusGiven || d.rfind("proxy.status_port=", 0) == 0;
    }
    // Each proxy gets its own status listener (the default port would be shared by every test).
    if (!statusGiven) {
      statusPorts_[port] = freePort();
      args.push_back("--define=proxy.status_port=" + std::to_string(statusPorts_[port]));
    }
    const std::string log = dir_.file("proxy-" + std::to_string(port) + ".log");
    proxies_.push_back(
        std::make_unique<ChildProcess>(binary("portico-proxy"), args, log, dir_.path()));
    if (!waitForPort(port)) CPPUNIT_FAIL("proxy did not start: " + proxies_.back()->log());
    return port;
  }
  ChildProcess& lastProxy() { return *proxies_.back(); }
  /// The status listener (/metrics, /healthz, /readyz) of the proxy on `proxyPort`.
  int statusPort(int proxyPort) const { return statusPorts_.at(proxyPort); }

  /// The common setup: echo `echoName`, a proxy with `defines`, route /proxy/ -> that echo,
  /// loaded by the proxy. Returns the proxy's port.
  int proxyToOneEcho(const std::string& echoName, const std::vector<std::string>& defines = {}) {
    echo(echoName);
    const int port = proxy(defines);
    routeServed(port, "/proxy/", {url(echoName)});
    return port;
  }

  HttpResult admin(const std::string& method, const std::string& path,
                   const std::string& body = "") {
    return http(adminPort_, method, path, body, {{"Content-Type", "application/json"}});
  }

  /// Creates a route through the admin API; `extra` is more JSON members
  /// (",\"healthCheck\":{...}").
  void route(const std::string& prefix, const std::vector<std::string>& targets,
             const std::string& balancer = "round_robin", const std::string& extra = "") {
    const auto r = admin("POST", "/endpoints/routes",
                         targetsBody(prefix, targets, ",\"balancer\":" + quoted(balancer) + extra));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 201, r.status);
  }
  /// route(), then waits until the proxy on `proxyPort` serves `prefix` (answers it other than
  /// 404).
  void routeServed(int proxyPort, const std::string& prefix,
                   const std::vector<std::string>& targets,
                   const std::string& balancer = "round_robin", const std::string& extra = "") {
    route(prefix, targets, balancer, extra);
    awaitStatusChange(proxyPort, prefix, 404);
  }
  void add(const std::string& prefix, const std::vector<std::string>& targets) {
    const auto r = admin("POST", "/endpoints/add", targetsBody(prefix, targets));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 200, r.status);
  }
  void remove(const std::string& prefix, const std::vector<std::string>& targets) {
    const auto r = admin("POST", "/endpoints/remove", targetsBody(prefix, targets));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 200, r.status);
  }

  /// The store revision the admin API reports now (its ETag).
  long long storeRevision() {
    const auto r = admin("GET", "/endpoints/routes");
    const std::string tag = r.header("etag");
    CPPUNIT_ASSERT_MESSAGE("no ETag: " + r.body, tag.size() > 2);
    return std::stoll(tag.substr(1, tag.size() - 2));
  }
  /// Waits until the proxy on `proxyPort` serves a route table at least as new as `revision`.
  void awaitProxyRevision(int proxyPort, long long revision) {
    const bool ok = waitUntil(
        [&] {
          const double loaded = metric(http(statusPort(proxyPort), "GET", "/metrics").body,
                                       "portico_route_table_revision");
          return loaded >= static_cast<double>(revision);
        },
        5s);
    CPPUNIT_ASSERT_MESSAGE("proxy did not load revision " + std::to_string(revision), ok);
  }

  /// Waits until `path` on the proxy answers with something other than `notYet` (e.g. 404 while
  /// the proxy has not loaded the route yet).
  void awaitStatusChange(int proxyPort, const std::string& path, int notYet) {
    const bool ok = waitUntil([&] { return http(proxyPort, "GET", path).status != notYet; }, 5s);
    CPPUNIT_ASSERT_MESSAGE("proxy kept answering " + std::to_string(notYet) + " for " + path, ok);
  }

 private:
  TempDir dir_;
  int adminPort_;
  std::unique_ptr<ChildProcess> sidecar_;
  std::map<std::string, std::unique_ptr<ChildProcess>> echos_;
  std::map<std::string, int> echoPorts_;
  std::vector<std::unique_ptr<ChildProcess>> proxies_;
  std::map<int, int> statusPorts_;  // proxy port -> status port
};

}  // namespace portico::test
