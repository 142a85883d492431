#pragma once

// portico-ctl run as an operator runs it (a shell, its exit code, what it printed on stdout and
// stderr) against a sidecar of SidecarHarness.h.

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "e2e/SidecarHarness.h"
#include "support/TestSupport.h"

namespace portico::test {

/// What one portico-ctl command line did.
struct CtlResult {
  int code = -1;
  std::string out;
  std::string err;
  std::string all() const { return "exit " + std::to_string(code) + "\n" + out + err; }
};

/// Runs build/bin/portico-ctl through /bin/sh in `dir` with PORTICO_SERVER set to the sidecar
/// on `port` (so pipes and redirections read as in docs/ctl.md), bounded by a timeout.
class Ctl {
 public:
  Ctl(const TempDir& dir, int port)
      : dir_(dir), server_("http://127.0.0.1:" + std::to_string(port)) {}

  /// `portico-ctl <args>`; args are shell words (quote them as a shell needs).
  CtlResult operator()(const std::string& args, const std::string& env = "") {
    return shell(env + " \"$CTL\" " + args);
  }

  /// A shell line in which "$CTL" is portico-ctl (e.g. "$CTL config get | $CTL config apply -f -").
  CtlResult shell(const std::string& line) {
    const std::string n = std::to_string(++runs_);
    const std::string out = dir_.file("ctl" + n + ".out"), err = dir_.file("ctl" + n + ".err");
    const std::string script = "CTL='" + binary("portico-ctl") + "'; export PORTICO_SERVER='" +
                               server_ + "'; (" + line + ") >'" + out + "' 2>'" + err +
                               "' </dev/null";
    ChildProcess child("/bin/sh", {"-c", script}, dir_.file("ctl-sh.log"), dir_.path());
    const auto status = child.wait(std::chrono::seconds(30));
    CtlResult result;
    result.code = status ? *status : -1;
    result.out = read(out);
    result.err = read(err);
    return result;
  }

  /// `portico-ctl <args>` left running (history --follow), stdout to `outFile`.
  std::unique_ptr<ChildProcess> start(const std::string& args, const std::string& outFile) {
    const std::string script = "export PORTICO_SERVER='" + server_ + "'; exec '" +
                               binary("portico-ctl") + "' " + args + " >'" + outFile + "'";
    return std::make_unique<ChildProcess>("/bin/sh", std::vector<std::string>{"-c", script},
                                          dir_.file("ctl-follow.log"), dir_.path());
  }

  const std::string& server() const { return server_; }

  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  const TempDir& dir_;
  std::string server_;
  int runs_ = 0;
};

}  // namespace portico::test
