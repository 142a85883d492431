#pragma once

// A running portico-sidecar for end-to-end tests, plus store snapshots and a TCP listener that
// health probes find reachable (so a probe writes no verdict and the revision stays put).

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/ServerSocket.h>
#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/RouteBodies.h"
#include "support/TestSupport.h"

namespace portico::test {

/// The answer's body as a JSON object, or null when it is not one (safe off the test thread).
inline Poco::JSON::Object::Ptr tryParseObject(const HttpResult& r) {
  try {
    return Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
    return nullptr;
  }
}

/// The answer's body as a JSON object; fails the test when it is not one.
inline Poco::JSON::Object::Ptr parseObject(const HttpResult& r) {
  auto object = tryParseObject(r);
  if (!object) CPPUNIT_FAIL("not a JSON object: " + r.body + r.error);
  return object;
}

/// "http://127.0.0.1:<port><base>", a loopback target URL.
inline std::string localUrl(int port, const std::string& base = "") {
  return "http://127.0.0.1:" + std::to_string(port) + base;
}

/// A running portico-sidecar (killed with the object) and the admin calls tests share.
class Sidecar {
 public:
  /// Starts build/bin/portico-sidecar in `dir` (no conf/ there) on a free admin port with the
  /// store at dir/p.db; `extra` are more arguments (--define=..., --config=...).
  explicit Sidecar(const TempDir& dir, std::vector<std::string> extra = {}, int port = 0,
                   const std::string& logName = "sidecar.log")
      : port_(port ? port : freePort()), db_(dir.file("p.db")) {
    std::vector<std::string> args{"--define=store.path=" + db_,
                                  "--define=admin.port=" + std::to_string(port_)};
    args.insert(args.end(), extra.begin(), extra.end());
    process_ = std::make_unique<ChildProcess>(binary("portico-sidecar"), args, dir.file(logName),
                                              dir.path());
  }

  /// Waits until the admin API answers (or the process exits); false if it never did.
  bool ready(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return waitUntil(
               [&] {
                 if (!process_->running()) return true;
                 return http(port_, "GET", "/endpoints/routes", "", {},
                             std::chrono::milliseconds(500))
                            .status != 0;
               },
               timeout) &&
           process_->running();
  }

  HttpResult request(const std::string& method, const std::string& path,
                     const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {}) const {
    return http(port_, method, path, body, headers);
  }

  /// POST /endpoints/routes with `targets` and, when given, a healthCheck object; asserts 201.
  void createRoute(const std::string& prefix, const std::vector<std::string>& targets,
                   const std::string& healthCheckJson = "") const {
    const std::string body = targetsBody(
        prefix, targets, healthCheckJson.empty() ? "" : ",\"healthCheck\":" + healthCheckJson);
    const auto r = request("POST", "/endpoints/routes", body);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(body + " -> " + r.body + r.error, 201, r.status);
  }

  /// GET /endpoints/list: target URL -> its JSON object; asserts 200.
  std::map<std::string, Poco::JSON::Object::Ptr> list(const std::string& prefix) const {
    const auto r = request("GET", "/endpoints/list?prefixPath=" + prefix);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error, 200, r.status);
    std::map<std::string, Poco::JSON::Object::Ptr> out;
    const auto targets = parseObject(r)->getArray("targets");
    for (std::size_t i = 0; i < targets->size(); ++i) {
      auto t = targets->getObject(static_cast<unsigned>(i));
      out[t->getValue<std::string>("target")] = t;
    }
    return out;
  }

  /// What the list says of one target's health: "true", "false" or "absent".
  std::string listed(const std::string& prefix, const std::string& url) const {
    const auto all = list(prefix);
    const auto it = all.find(url);
    if (it == all.end()) return "absent";
    return it->second->getValue<bool>("healthy") ? "true" : "false";
  }

  /// One column of a target's row in the store ("" when the target is absent).
  std::string stored(const std::string& url, const std::string& column = "healthy") const {
    return sqlite(db_, "SELECT " + column + " FROM targets WHERE url = '" + url + "'");
  }

  int port() const { return port_; }
  const std::string& db() const { return db_; }
  ChildProcess& process() { return *process_; }

 private:
  int port_;
  std::string db_;
  std::unique_ptr<ChildProcess> process_;
};

/// The rows the admin API owns, the seed table and the revision: equal before and after a
/// request that changed nothing. Health-owned columns (healthy, last_*) are left out.
inline std::string storeSnapshot(const std::string& db) {
  return sqlite(db, "SELECT * FROM routes ORDER BY id") + "\n--\n" +
         sqlite(db, "SELECT id, route_id, url, created_at FROM targets ORDER BY id") + "\n--\n" +
         sqlite(db, "SELECT * FROM config_seeds ORDER BY prefix") + "\n--\n" +
         sqlite(db, "SELECT value FROM revision");
}

/// A port on 127.0.0.1 that accepts TCP connections for the test's lifetime (the kernel
/// completes handshakes into the backlog), so TCP health probes of it succeed.
class ReachablePort {
 public:
  ReachablePort() : socket_(Poco::Net::SocketAddress("127.0.0.1", 0), 256) {}
  int port() const { return socket_.address().port(); }
  std::string url(const std::string& base = "") const { return localUrl(port(), base); }

 private:
  Poco::Net::ServerSocket socket_;
};

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace portico::test
