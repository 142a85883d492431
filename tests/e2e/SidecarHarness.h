#pragma once

// A running portico-sidecar for end-to-end tests, plus store snapshots and a TCP listener that
// health probes find reachable (so a probe writes no verdict and the revision stays put).

#include <Poco/Net/ServerSocket.h>
#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <string>
#include <vector>

#include "TestSupport.h"

namespace portico::test {

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
  std::string url(const std::string& base = "") const {
    return "http://127.0.0.1:" + std::to_string(port()) + base;
  }

 private:
  Poco::Net::ServerSocket socket_;
};

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace portico::test
