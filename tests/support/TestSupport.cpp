#include "support/TestSupport.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#if !defined(PORTICO_BIN_DIR) || !defined(PORTICO_SOURCE_DIR)
#error "PORTICO_BIN_DIR and PORTICO_SOURCE_DIR must be defined by the build"
#endif

namespace portico::test {

std::string binDir() {
  return PORTICO_BIN_DIR;
}
std::string sourceDir() {
  return PORTICO_SOURCE_DIR;
}
std::string binary(const std::string& name) {
  return binDir() + "/" + name;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/portico-test-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ignored;  // a destructor cannot report it, and a leftover /tmp dir is harmless
  std::filesystem::remove_all(path_, ignored);
}

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           const std::string& logFile, const std::string& workDir)
    : logFile_(logFile) {
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int fd = open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    if (!workDir.empty() && chdir(workDir.c_str()) != 0) _exit(127);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (running()) kill9();
}

bool ChildProcess::running() {
  if (status_) return false;
  int st = 0;
  const pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return r == 0;
}

void ChildProcess::kill9() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  wait(std::chrono::seconds(10));
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  waitUntil([&] { return !running(); }, timeout, std::chrono::milliseconds(5));
  return status_;
}

std::optional<int> ChildProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) return status_;
  ::kill(pid_, SIGTERM);
  if (wait(grace)) return status_;
  kill9();
  return std::nullopt;
}

std::string ChildProcess::log() const {
  std::ifstream in(logFile_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int freePort() {
  // A port is free once its probe socket closes, so the kernel may hand the same one out again
  // before the process meant to take it has bound it: a proxy was once given one port for
  // both proxy.port and proxy.status_port. Ports this test process handed out are not given
  // again (there are 28,000 ephemeral ones; a test takes a few dozen).
  static std::mutex mutex;
  static std::set<int> given;
  std::lock_guard<std::mutex> lock(mutex);
  for (int attempt = 0;; ++attempt) {
    Poco::Net::ServerSocket s(Poco::Net::SocketAddress("127.0.0.1", 0), 1);
    const int port = s.address().port();
    if (given.insert(port).second || attempt == 100) return port;
  }
}

namespace {

bool pollUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

}  // namespace

// A bound is how long something may take, not how fast it must be: an instrumented build is
// given kSlowdown times as long (the scale test's 1.5 s health transitions took longer under
// ASan on a loaded machine), so a sanitizer run fails on reports and hangs, not on its slowness.
bool waitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every) {
  return pollUntil(pred, timeout * kSlowdown, every);
}

// Not scaled: a longer watch would only make the test slower, never more likely to pass.
bool holdsFor(const std::function<bool()>& pred, std::chrono::milliseconds duration,
              std::chrono::milliseconds every) {
  return !pollUntil([&] { return !pred(); }, duration, every);
}

bool waitForPort(int port, std::chrono::milliseconds timeout) {
  return waitUntil(
      [port] {
        try {
          Poco::Net::StreamSocket s;
          s.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)),
                    Poco::Timespan(0, 200000));
          return true;
        } catch (const Poco::Exception&) {
          return false;
        }
      },
      timeout);
}

namespace {

/// Sends `req` with `body` on a new connection and reads the whole answer.
HttpResult exchange(int port, Poco::Net::HTTPRequest& req, const std::string& body,
                    std::chrono::milliseconds timeout) {
  HttpResult out;
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    session.setTimeout(Poco::Timespan(static_cast<long>(timeout.count() / 1000),
                                      static_cast<long>((timeout.count() % 1000) * 1000)));
    session.sendRequest(req) << body;
    Poco::Net::HTTPResponse resp;
    std::istream& in = session.receiveResponse(resp);
    out.status = static_cast<int>(resp.getStatus());
    for (const auto& [k, v] : resp) out.headers[Poco::toLower(k)] = v;
    std::ostringstream ss;
    Poco::StreamCopier::copyStream(in, ss);
    out.body = ss.str();
  } catch (const Poco::Exception& e) {
    out.status = 0;
    out.error = e.displayText();
  }
  return out;
}

}  // namespace

HttpResult http(int port, const std::string& method, const std::string& pathAndQuery,
                const std::string& body, const std::map<std::string, std::string>& headers,
                std::chrono::milliseconds timeout) {
  Poco::Net::HTTPRequest req(method, pathAndQuery, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || method == "POST" || method == "PUT")
    req.setContentLength(static_cast<std::streamsize>(body.size()));
  return exchange(port, req, body, timeout);
}

KeepAliveClient::KeepAliveClient(int port)
    : session_(std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1",
                                                              static_cast<Poco::UInt16>(port))) {
  session_->setKeepAlive(true);
  session_->setTimeout(Poco::Timespan(20, 0));
}

KeepAliveClient::~KeepAliveClient() = default;

HttpResult KeepAliveClient::get(const std::string& pathAndQuery,
                                const std::map<std::string, std::string>& headers) {
  HttpResult out;
  try {
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, pathAndQuery,
                               Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [k, v] : headers) req.set(k, v);
    session_->sendRequest(req);
    Poco::Net::HTTPResponse resp;
    std::istream& in = session_->receiveResponse(resp);
    out.status = static_cast<int>(resp.getStatus());
    for (const auto& [k, v] : resp) out.headers[Poco::toLower(k)] = v;
    std::ostringstream body;
    Poco::StreamCopier::copyStream(in, body);
    out.body = body.str();
  } catch (const Poco::Exception& e) {
    out.error = e.displayText();
  }
  return out;
}

HttpResult httpChunked(int port, const std::string& method, const std::string& pathAndQuery,
                       const std::string& body, std::chrono::milliseconds timeout) {
  Poco::Net::HTTPRequest req(method, pathAndQuery, Poco::Net::HTTPMessage::HTTP_1_1);
  req.setChunkedTransferEncoding(true);
  return exchange(port, req, body, timeout);
}

std::string sqlite(const std::string& dbPath, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(dbPath.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    const std::string msg = db ? sqlite3_errmsg(db) : "oom";
    sqlite3_close(db);
    throw std::runtime_error("open " + dbPath + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  std::string out;
  char* err = nullptr;
  auto cb = [](void* arg, int n, char** vals, char**) -> int {
    auto* s = static_cast<std::string*>(arg);
    if (!s->empty()) s->push_back('\n');
    for (int i = 0; i < n; ++i) {
      if (i) s->push_back('|');
      if (vals[i]) s->append(vals[i]);
    }
    return 0;
  };
  const int rc = sqlite3_exec(db, sql.c_str(), cb, &out, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error("sqlite: " + msg + " in: " + sql);
  return out;
}

namespace {
std::vector<std::string>& skipped() {
  static std::vector<std::string> reasons;
  return reasons;
}
}  // namespace

void skipTest(const std::string& reason) {
  std::cerr << "\nSKIPPED: " << reason << std::endl;
  skipped().push_back(reason);
}

const std::vector<std::string>& skipReasons() {
  return skipped();
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace portico::test
