// End-to-end tests of the proxy's binary upgrade (kill -USR2) under load, of an upgrade to a
// binary that does not start, and of socket activation (systemd-socket-activate) for both
// programs. The proxy runs from a copy of the binary in the test's directory, replaced the way
// a package upgrade replaces it (a new file renamed over the old one).

#include <cppunit/extensions/HelperMacros.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <set>

#include "e2e/ProxyTestHarness.h"

using namespace portico::test;
using namespace std::chrono_literals;

namespace {

bool onPath(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

/// Installs `source` at `target` as dpkg does: a new file renamed over the old one (a running
/// binary cannot be written in place).
void install(const std::string& source, const std::string& target) {
  const std::string next = target + ".new";
  std::filesystem::copy_file(source, next, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::permissions(next, std::filesystem::perms::owner_all);
  std::filesystem::rename(next, target);
}

/// The proxies a binary upgrade starts are not the test's children: each is reparented to the
/// test (their subreaper) when the process that started it exits. The test reaps them, and kills
/// whichever still runs when it ends.
class Successors {
 public:
  Successors() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~Successors() {
    for (pid_t pid : running_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  void add(pid_t pid) { running_.insert(pid); }
  /// Waits (bounded) until `pid` exited, reaping it; `terminate` sends SIGTERM first.
  bool awaitExit(pid_t pid, bool terminate) {
    if (terminate) ::kill(pid, SIGTERM);
    const bool gone = waitUntil(
        [pid] {
          // Not yet reparented to the test (ECHILD) but already gone counts too.
          return ::waitpid(pid, nullptr, WNOHANG) == pid || ::kill(pid, 0) != 0;
        },
        15s);
    if (gone) running_.erase(pid);
    return gone;
  }

 private:
  std::set<pid_t> running_;
};

/// The pids the log names in "binary upgrade: pid N serves now", in order.
std::vector<pid_t> upgradedPids(const std::string& log) {
  static const std::regex line("binary upgrade: pid ([0-9]+) serves now");
  std::vector<pid_t> out;
  for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it)
    out.push_back(static_cast<pid_t>(std::stol((*it)[1])));
  return out;
}

/// wrk -c64 against the proxy for `seconds`, in the background; its report on finish().
class Load {
 public:
  Load(const TempDir& dir, int port, int seconds)
      : process_("/usr/bin/env",
                 {"wrk", "-c64", "-t2", "-d" + std::to_string(seconds) + "s",
                  "http://127.0.0.1:" + std::to_string(port) + "/proxy/load"},
                 dir.file("wrk-" + std::to_string(seconds) + ".txt")) {}
  std::string finish() {
    if (!process_.wait(60s)) CPPUNIT_FAIL("wrk did not end");
    return process_.log();
  }

 private:
  ChildProcess process_;
};

/// The socket systemd reads sd_notify messages from (NOTIFY_SOCKET), played by the test: each
/// message with the pid that sent it (SO_PASSCRED).
class NotifySocket {
 public:
  struct Message {
    pid_t pid;
    std::string text;
  };
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      CPPUNIT_FAIL("cannot bind " + path);
    timeval slice{0, 20000};  // receive() polls in slices of 20 ms
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &slice, sizeof slice);
  }
  ~NotifySocket() { ::close(fd_); }
  const std::string& path() const { return path_; }

  /// Waits (bounded) for a message from `pid` containing `text`; every message read on the
  /// way is kept in `seen`.
  bool await(pid_t pid, const std::string& text) {
    return waitUntil(
        [&] {
          for (;;) {
            const auto m = receive();
            if (!m) return false;
            seen.push_back(*m);
            if (m->pid == pid && m->text.find(text) != std::string::npos) return true;
          }
        },
        10s, 1ms);
  }
  bool sent(pid_t pid, const std::string& text) const {
    for (const auto& m : seen)
      if (m.pid == pid && m.text.find(text) != std::string::npos) return true;
    return false;
  }
  std::vector<Message> seen;

 private:
  std::optional<Message> receive() {
    char data[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    iovec iov{data, sizeof data};
    msghdr header{};
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_, &header, 0);
    if (n < 0) return std::nullopt;
    pid_t pid = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&header); c; c = CMSG_NXTHDR(&header, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
        pid = reinterpret_cast<ucred*>(CMSG_DATA(c))->pid;
    }
    return Message{pid, std::string(data, static_cast<std::size_t>(n))};
  }

  std::string path_;
  int fd_{-1};
};

/// "N requests in" of a wrk report (0 when absent).
long wrkRequests(const std::string& report) {
  std::smatch m;
  return std::regex_search(report, m, std::regex("([0-9]+) requests in")) ? std::stol(m[1]) : 0;
}

}  // namespace

class UpgradeTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(UpgradeTest);
  CPPUNIT_TEST(tenUpgradesUnderLoadLoseNoRequest);
  CPPUNIT_TEST(aNewBinaryThatFailsLeavesTrafficAlone);
  CPPUNIT_TEST(tellsSystemdEachStep);
  CPPUNIT_TEST(proxyServesTheSocketsSystemdHandsOver);
  CPPUNIT_TEST(sidecarServesTheSocketSystemdHandsOver);
  CPPUNIT_TEST_SUITE_END();

 public:
  void tenUpgradesUnderLoadLoseNoRequest() {
    if (!onPath("wrk")) return skipTest("wrk is not installed (scripts/deps.sh installs it)");
    Fixture f;
    Load load(f.stack.dir(), f.port, 14);
    std::vector<pid_t> pids{f.proxy->pid()};
    for (std::size_t i = 1; i <= 10; ++i) {
      std::this_thread::sleep_for(1s);  // the upgrades' pace under the load, not a wait
      pids.push_back(f.upgrade(pids.back(), i));
    }
    const std::string report = load.finish();
    const std::set<pid_t> seen(pids.begin(), pids.end());
    CPPUNIT_ASSERT_EQUAL(std::size_t{11}, seen.size());  // a new process each time
    f.awaitDrained(pids);
    CPPUNIT_ASSERT_MESSAGE(report, wrkRequests(report) > 10000 / kSlowdown);
    // wrk prints these lines only when something went wrong.
    CPPUNIT_ASSERT_MESSAGE(report, report.find("Socket errors") == std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(report, report.find("Non-2xx") == std::string::npos);
    std::fprintf(stderr, "10 upgrades under wrk -c64: %ld requests, 0 failed, %zu distinct pids\n",
                 wrkRequests(report), seen.size());
  }

  void aNewBinaryThatFailsLeavesTrafficAlone() {
    if (!onPath("wrk")) return skipTest("wrk is not installed (scripts/deps.sh installs it)");
    Fixture f;
    const std::string broken = f.stack.dir().file("broken");
    writeFile(broken, "#!/bin/sh\necho 'portico-proxy: simulated broken build' >&2\nexit 3\n");
    install(broken, f.program);
    Load load(f.stack.dir(), f.port, 3);
    std::this_thread::sleep_for(1s);  // the upgrade lands in the middle of the load
    ::kill(f.proxy->pid(), SIGUSR2);
    const bool logged = waitUntil(
        [&] { return f.proxy->log().find("binary upgrade failed") != std::string::npos; }, 10s);
    const std::string report = load.finish();
    const std::string log = f.proxy->log();
    CPPUNIT_ASSERT_MESSAGE(log, logged);
    CPPUNIT_ASSERT_MESSAGE(log,
                           log.find("binary upgrade failed, pid " + std::to_string(f.proxy->pid()) +
                                    " serves on: " + f.program) != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(
        log, log.find("exited with status 3 before it was ready") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(log, log.find("simulated broken build") != std::string::npos);
    CPPUNIT_ASSERT(f.proxy->running());
    CPPUNIT_ASSERT_MESSAGE(report, wrkRequests(report) > 1000 / kSlowdown);
    CPPUNIT_ASSERT_MESSAGE(report, report.find("Socket errors") == std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(report, report.find("Non-2xx") == std::string::npos);
    // A binary that cannot be executed at all is the same: the old process serves on.
    std::filesystem::remove(f.program);
    ::kill(f.proxy->pid(), SIGUSR2);
    CPPUNIT_ASSERT(waitUntil(
        [&] {
          return f.proxy->log().find("could not be executed: No such file") != std::string::npos;
        },
        10s));
    CPPUNIT_ASSERT_EQUAL(200, http(f.port, "GET", "/proxy/after").status);
  }

  void tellsSystemdEachStep() {
    TempDir dir;
    NotifySocket notify(dir.file("notify"));
    Fixture f(notify.path());
    const pid_t first = f.proxy->pid();
    CPPUNIT_ASSERT(notify.await(first, "READY=1\nMAINPID=" + std::to_string(first)));
    CPPUNIT_ASSERT(notify.await(first, "WATCHDOG=1"));  // WATCHDOG_USEC=200ms: every 100 ms
    const pid_t second = f.upgrade(first, 1);
    CPPUNIT_ASSERT(notify.await(first, "RELOADING=1"));
    // The new process takes over as the service's main process, and pings from then on.
    CPPUNIT_ASSERT(notify.await(second, "READY=1\nMAINPID=" + std::to_string(second)));
    CPPUNIT_ASSERT(notify.await(second, "WATCHDOG=1"));
    f.awaitDrained({first});
    ::kill(second, SIGTERM);
    CPPUNIT_ASSERT(notify.await(second, "STOPPING=1"));
    f.awaitDrained({second});
    // Read after the first process exited: all it ever sent.
    CPPUNIT_ASSERT_MESSAGE("a replaced process must not stop the service",
                           !notify.sent(first, "STOPPING=1"));
  }

  void proxyServesTheSocketsSystemdHandsOver() {
    if (!onPath("systemd-socket-activate"))
      return skipTest("systemd-socket-activate is not installed (Debian's systemd package)");
    Stack stack;
    stack.echo("a");
    const int port = freePort(), status = freePort();
    // proxy.port and proxy.status_port name ports nobody serves: the handed-over ones win.
    ChildProcess activated(
        "/usr/bin/systemd-socket-activate",
        {"-l", "127.0.0.1:" + std::to_string(port), "-l", "127.0.0.1:" + std::to_string(status),
         "--fdname=http:status", binary("portico-proxy"), "--define=store.path=" + stack.store(),
         "--define=proxy.port=" + std::to_string(freePort()),
         "--define=proxy.status_port=" + std::to_string(freePort()),
         "--define=proxy.reload_interval=50ms"},
        stack.dir().file("activated.log"), stack.dir().path());
    CPPUNIT_ASSERT(waitForPort(port));  // the first connection makes it exec the proxy
    stack.route("/proxy/", {stack.url("a")});
    CPPUNIT_ASSERT_MESSAGE(
        activated.log(),
        waitUntil([&] { return http(port, "GET", "/proxy/x").status == 200; }, 10s));
    CPPUNIT_ASSERT_EQUAL(200, http(status, "GET", "/readyz").status);
    CPPUNIT_ASSERT_MESSAGE(
        activated.log(),
        activated.log().find("serving the listening sockets of systemd") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(0, activated.stop(10s).value_or(-1));
  }

  void sidecarServesTheSocketSystemdHandsOver() {
    if (!onPath("systemd-socket-activate"))
      return skipTest("systemd-socket-activate is not installed (Debian's systemd package)");
    TempDir dir;
    const int port = freePort();
    ChildProcess activated("/usr/bin/systemd-socket-activate",
                           {"-l", "127.0.0.1:" + std::to_string(port), binary("portico-sidecar"),
                            "--define=store.path=" + dir.file("portico.db"),
                            "--define=admin.port=" + std::to_string(freePort())},
                           dir.file("activated.log"), dir.path());
    CPPUNIT_ASSERT(waitForPort(port));
    const auto r = http(port, "GET", "/endpoints/routes");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.body + r.error + activated.log(), 200, r.status);
    CPPUNIT_ASSERT(activated.log().find("serving the admin socket systemd handed over") !=
                   std::string::npos);
    CPPUNIT_ASSERT_EQUAL(0, activated.stop(10s).value_or(-1));
  }

 private:
  /// A stack whose proxy runs from a copy of the binary, routed to one echo.
  struct Fixture {
    /// `notifySocket`: the proxy's NOTIFY_SOCKET (with a 200 ms watchdog), none when empty.
    explicit Fixture(const std::string& notifySocket = "")
        : program(stack.dir().file("portico-proxy")) {
      install(binary("portico-proxy"), program);
      stack.echo("a");
      port = freePort();
      if (!notifySocket.empty()) {
        ::setenv("NOTIFY_SOCKET", notifySocket.c_str(), 1);
        ::setenv("WATCHDOG_USEC", "200000", 1);
      }
      proxy = std::make_unique<ChildProcess>(
          program,
          std::vector<std::string>{
              "--define=store.path=" + stack.store(), "--define=proxy.port=" + std::to_string(port),
              "--define=proxy.host=127.0.0.1",
              "--define=proxy.status_port=" + std::to_string(freePort()),
              "--define=proxy.reload_interval=50ms", "--define=proxy.access_log=off"},
          stack.dir().file("proxy.log"), stack.dir().path());
      ::unsetenv("NOTIFY_SOCKET");  // the proxy has its copy; nothing else gets one
      ::unsetenv("WATCHDOG_USEC");
      if (!waitForPort(port)) CPPUNIT_FAIL("proxy did not start: " + proxy->log());
      stack.routeServed(port, "/proxy/", {stack.url("a")});
    }
    /// SIGUSR2 to `pid`; the pid of the process that serves after it (the `n`th upgrade).
    pid_t upgrade(pid_t pid, std::size_t n) {
      ::kill(pid, SIGUSR2);
      std::vector<pid_t> pids;
      const bool done = waitUntil(
          [&] {
            pids = upgradedPids(proxy->log());
            return pids.size() >= n;
          },
          15s);
      if (!done) CPPUNIT_FAIL("upgrade " + std::to_string(n) + " did not happen: " + proxy->log());
      successors.add(pids[n - 1]);
      return pids[n - 1];
    }
    /// Every process of `pids` but the last drained and exited; the last one is stopped (if it
    /// has not exited yet).
    void awaitDrained(const std::vector<pid_t>& pids) {
      for (std::size_t i = 0; i < pids.size(); ++i) {
        const bool last = i + 1 == pids.size();
        const bool exited = pids[i] == proxy->pid()
                                ? (last ? proxy->stop(15s) : proxy->wait(15s)).has_value()
                                : successors.awaitExit(pids[i], last);
        CPPUNIT_ASSERT_MESSAGE("pid " + std::to_string(pids[i]) + " did not exit", exited);
      }
    }

    Successors successors;
    Stack stack;
    std::string program;
    int port{0};
    std::unique_ptr<ChildProcess> proxy;
  };
};

CPPUNIT_TEST_SUITE_REGISTRATION(UpgradeTest);
