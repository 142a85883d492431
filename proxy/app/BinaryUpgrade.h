#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "net/InheritedListeners.h"

namespace portico {

/// The binary upgrade of `kill -USR2`, as nginx does it: the program on disk (the one a package
/// upgrade just replaced) starts as a child of this process with every listening socket, named
/// in PORTICO_LISTENERS; it writes to a pipe once it serves. Only then does the caller stop
/// accepting and drain. A child that exits, cannot be executed or stays silent past the timeout
/// leaves this process serving as before, with the reason in the outcome.
class BinaryUpgrade {
 public:
  /// The variable naming the pipe's write end in the child.
  static constexpr const char* kReadyVariable = "PORTICO_UPGRADE_READY_FD";

  struct Outcome {
    bool ready{false};
    pid_t pid{-1};
    std::string why;  // when not ready: what the child did instead
  };

  /// `program`: the executable's path, read when this process started (/proc/self/exe points
  /// at the deleted file once a package replaced it); `args`: argv[1..].
  BinaryUpgrade(std::string program, std::vector<std::string> args);
  /// This process's executable and the arguments it was started with.
  static BinaryUpgrade ofThisProcess(const std::vector<std::string>& argv);

  /// Starts the child with `listeners` and waits up to `timeout` for its word. A child still
  /// silent at the timeout is killed.
  Outcome run(const std::vector<net::InheritedListeners::Entry>& listeners,
              std::chrono::milliseconds timeout) const;

  const std::string& program() const { return program_; }

  /// In the child: takes (and unsets) the pipe the parent waits on; -1 when not upgraded.
  static int takeReadyPipe();
  /// In the child, once it serves: tells the parent, and closes the pipe.
  static void reportReady(int pipe);

 private:
  std::vector<std::string> environment(const std::string& listeners, int pipe) const;
  Outcome wait(pid_t pid, int pipe, std::chrono::milliseconds timeout) const;

  std::string program_;
  std::vector<std::string> args_;
};

}  // namespace portico
