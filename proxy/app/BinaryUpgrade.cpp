#include "app/BinaryUpgrade.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace portico {
namespace {

constexpr char kReady = 'R';
constexpr char kExecFailed = 'E';

/// The variables the child must not see: the parent's own handed-over sockets and pipe, and
/// systemd's per-process ones (WATCHDOG_PID names the parent; without it the child's pings
/// count, see ServiceManager).
bool dropped(const std::string& entry) {
  for (const char* name : {"PORTICO_LISTENERS=", "PORTICO_UPGRADE_READY_FD=", "WATCHDOG_PID=",
                           "LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES="}) {
    if (entry.rfind(name, 0) == 0) return true;
  }
  return false;
}

std::string exitText(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

/// After fork(), before exec: only async-signal-safe calls. The sockets and the pipe stay open
/// across exec; the signal mask and dispositions are the parent's no more.
[[noreturn]] void execChild(const char* program, char* const* argv, char* const* envp,
                            const std::vector<int>& keep, int pipe) {
  for (int fd : keep) ::fcntl(fd, F_SETFD, 0);
  ::fcntl(pipe, F_SETFD, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::execve(program, argv, envp);
  const char message[2] = {kExecFailed, static_cast<char>(errno)};
  (void)!::write(pipe, message, sizeof message);
  ::_exit(127);
}

}  // namespace

BinaryUpgrade::BinaryUpgrade(std::string program, std::vector<std::string> args)
    : program_(std::move(program)), args_(std::move(args)) {}

BinaryUpgrade BinaryUpgrade::ofThisProcess(const std::vector<std::string>& argv) {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  std::string program = n > 0 ? std::string(path, static_cast<std::size_t>(n)) : argv.at(0);
  return BinaryUpgrade(std::move(program), std::vector<std::string>(argv.begin() + 1, argv.end()));
}

std::vector<std::string> BinaryUpgrade::environment(const std::string& listeners, int pipe) const {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (!dropped(*e)) env.emplace_back(*e);
  }
  env.push_back(std::string(net::InheritedListeners::kVariable) + "=" + listeners);
  env.push_back(std::string(kReadyVariable) + "=" + std::to_string(pipe));
  return env;
}

BinaryUpgrade::Outcome BinaryUpgrade::run(
    const std::vector<net::InheritedListeners::Entry>& listeners,
    std::chrono::milliseconds timeout) const {
  int pipe[2];
  if (::pipe2(pipe, O_CLOEXEC) != 0) return {false, -1, std::string("pipe: ") + strerror(errno)};
  // Everything the child needs is built before fork(): after it, no allocation.
  std::vector<int> keep(listeners.size());
  for (std::size_t i = 0; i < listeners.size(); ++i) keep[i] = listeners[i].fd;
  std::vector<std::string> args{program_};
  args.insert(args.end(), args_.begin(), args_.end());
  const std::vector<std::string> env =
      environment(net::InheritedListeners::format(listeners), pipe[1]);
  std::vector<char*> argv, envp;
  argv.reserve(args.size() + 1);
  envp.reserve(env.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) execChild(program_.c_str(), argv.data(), envp.data(), keep, pipe[1]);
  ::close(pipe[1]);
  if (pid < 0) {
    ::close(pipe[0]);
    return {false, -1, std::string("fork: ") + strerror(errno)};
  }
  Outcome outcome = wait(pid, pipe[0], timeout);
  ::close(pipe[0]);
  return outcome;
}

BinaryUpgrade::Outcome BinaryUpgrade::wait(pid_t pid, int pipe,
                                           std::chrono::milliseconds timeout) const {
  pollfd p{pipe, POLLIN, 0};
  int polled = 0;
  do {
    polled = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (polled < 0 && errno == EINTR);
  char message[2] = {0, 0};
  const ssize_t n = polled > 0 ? ::read(pipe, message, sizeof message) : -1;
  if (n > 0 && message[0] == kReady) return {true, pid, ""};
  std::string why;
  if (polled == 0) {
    // Silent: it may hold the sockets but cannot be trusted with them.
    ::kill(pid, SIGKILL);
    why = "did not report ready within " + std::to_string(timeout.count()) + " ms; killed it";
  } else if (n == 2 && message[0] == kExecFailed) {
    why = "could not be executed: " + std::string(strerror(message[1]));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (why.empty()) why = exitText(status) + " before it was ready";
  return {false, pid, program_ + " (pid " + std::to_string(pid) + ") " + why};
}

int BinaryUpgrade::takeReadyPipe() {
  const char* value = std::getenv(kReadyVariable);
  if (!value) return -1;
  const int fd = std::atoi(value);
  ::unsetenv(kReadyVariable);
  if (fd < 3 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return -1;
  return fd;
}

void BinaryUpgrade::reportReady(int pipe) {
  if (pipe < 0) return;
  const char ready = kReady;
  (void)!::write(pipe, &ready, 1);
  ::close(pipe);
}

}  // namespace portico
