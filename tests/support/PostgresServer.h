#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "support/TestSupport.h"

namespace portico::test {

/// A PostgreSQL server of the test's own: initdb in a temporary directory, then the server on
/// 127.0.0.1 and a free port (no Unix socket, fsync off), trust authentication for the
/// superuser `portico`. The server refuses to run as root: as root, initdb and the server run
/// as the `postgres` user (setpriv), in a directory made theirs. When PostgreSQL is not
/// installed the constructor throws, naming the package: a test that needs it fails, never
/// passes unnoticed. Stopped (fast shutdown) on destruction.
class PostgresServer {
 public:
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  /// A new, empty database; returns its URL (postgresql://portico@127.0.0.1:PORT/NAME).
  std::string createDatabase();
  std::string url(const std::string& database) const;
  int port() const { return port_; }

  /// Fast shutdown (clients are disconnected); waits until the server has exited.
  void stop();
  /// Starts again on the same port and data; waits until it accepts connections.
  void start();

  /// Runs `sql` on the database at `url`; rows joined with '\n', columns with '|'. Throws with
  /// the server's message on an error.
  static std::string query(const std::string& url, const std::string& sql);

 private:
  std::vector<std::string> asServerUser(const std::string& program,
                                        const std::vector<std::string>& args) const;

  TempDir dir_;
  std::string bin_;   // /usr/lib/postgresql/<version>/bin
  std::string data_;  // the cluster's directory
  int port_{0};
  bool root_{false};
  int databases_{0};
  std::unique_ptr<ChildProcess> server_;
};

}  // namespace portico::test
