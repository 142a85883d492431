#pragma once

// Helpers for tests that start the real binaries: processes, temp dirs, ports, HTTP.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace Poco::Net {
class HTTPClientSession;
}

namespace portico::test {

/// How many times slower than a plain build this build runs: a sanitizer build (ASan, TSan)
/// scales the timing that a test measures by it (intervals, schedules), not its correctness.
#ifdef PORTICO_SANITIZED
inline constexpr int kSlowdown = 4;
#else
inline constexpr int kSlowdown = 1;
#endif

/// Where the built binaries live (build/bin), and the source tree (for scripts tests run).
std::string binDir();
std::string sourceDir();
std::string binary(const std::string& name);

/// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// A child process (stdout+stderr to a log file), killed with SIGKILL on destruction if still
/// running. The child also dies if the test process dies (PR_SET_PDEATHSIG).
class ChildProcess {
 public:
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const std::string& logFile, const std::string& workDir = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void kill9();
  /// SIGTERM, then waits up to `grace` before SIGKILL. Returns the exit status if it exited.
  std::optional<int> stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  /// Waits for exit up to `timeout`; returns the exit status (128+signal when killed).
  std::optional<int> wait(std::chrono::milliseconds timeout);
  std::string log() const;  // the whole log so far
  const std::string& logFile() const { return logFile_; }

 private:
  pid_t pid_{-1};
  std::optional<int> status_;
  std::string logFile_;
};

/// A TCP port on 127.0.0.1 that was free a moment ago.
int freePort();
/// Polls until `pred` is true; false if `timeout` (times kSlowdown) passed first.
bool waitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every = std::chrono::milliseconds(20));
/// True if `pred` held at every check over `duration` (an invariant over time, the dual of
/// waitUntil); false at the first check where it did not.
bool holdsFor(const std::function<bool()>& pred, std::chrono::milliseconds duration,
              std::chrono::milliseconds every = std::chrono::milliseconds(20));
/// True once something accepts TCP connections on 127.0.0.1:port (bounded by timeout).
bool waitForPort(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// Client threads of a test, joined when it ends however it ends: a failed assertion while they
/// run reports itself instead of std::thread's terminate().
class ThreadGroup {
 public:
  ThreadGroup() = default;
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;
  ~ThreadGroup() { join(); }
  template <typename F>
  void spawn(F&& f) {
    threads_.emplace_back(std::forward<F>(f));
  }
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  std::vector<std::thread> threads_;
};

/// What an HTTP exchange returned; status 0 and `error` set when there was no response.
struct HttpResult {
  int status{0};
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased; last value wins
  std::string error;
  std::string header(const std::string& lowerName) const {
    auto it = headers.find(lowerName);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// One request on a new connection to 127.0.0.1:port.
HttpResult http(int port, const std::string& method, const std::string& pathAndQuery,
                const std::string& body = "",
                const std::map<std::string, std::string>& headers = {},
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// Requests one after the other on one keep-alive connection to 127.0.0.1:port (the proxy
/// serves them all on one thread, so they share that thread's balancer rotation).
class KeepAliveClient {
 public:
  explicit KeepAliveClient(int port);
  ~KeepAliveClient();
  KeepAliveClient(const KeepAliveClient&) = delete;
  KeepAliveClient& operator=(const KeepAliveClient&) = delete;
  HttpResult get(const std::string& pathAndQuery,
                 const std::map<std::string, std::string>& headers = {});

 private:
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

/// Like http(), but the body goes chunked (no Content-Length), as streaming clients send it.
HttpResult httpChunked(int port, const std::string& method, const std::string& pathAndQuery,
                       const std::string& body,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// Runs `sql` with the sqlite3 C API on `dbPath` and returns the rows, columns joined with '|',
/// rows with '\n' (what `sqlite3 db "sql"` would print).
std::string sqlite(const std::string& dbPath, const std::string& sql);

/// Writes `text` to `path`.
void writeFile(const std::string& path, const std::string& text);

/// Marks the running test as skipped (what it needs is missing here) and says why on stderr.
/// The test returns without asserting; when every test of the executable passed or was skipped
/// and one was, the executable exits with kSkipped, which CTest reports as "Not Run (Skipped)",
/// never as a pass.
void skipTest(const std::string& reason);
constexpr int kSkipped = 77;
/// The reasons given to skipTest() so far.
const std::vector<std::string>& skipReasons();

}  // namespace portico::test
