#pragma once

// Several proxies and sidecars on one PostgreSQL store (a server the test starts), with echo
// backends: the setting of issue "many proxies and sidecars on several machines".

#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "e2e/SidecarHarness.h"
#include "support/PostgresServer.h"
#include "support/TestSupport.h"

namespace portico::test {

class Cluster {
 public:
  /// A fresh database on `server`; health leases of `leaseTimeout`.
  Cluster(PostgresServer& server, std::string leaseTimeout = "2s")
      : server_(server), url_(server.createDatabase()), leaseTimeout_(std::move(leaseTimeout)) {}

  const std::string& url() const { return url_; }
  PostgresServer& server() { return server_; }
  const TempDir& dir() const { return dir_; }

  /// Starts a sidecar with `sidecar.id` = `id`; waits until its API answers.
  Sidecar& sidecar(const std::string& id, const std::vector<std::string>& defines = {}) {
    std::vector<std::string> args{"--define=store.url=" + url_, "--define=sidecar.id=" + id,
                                  "--define=health.lease_timeout=" + leaseTimeout_};
    for (const auto& d : defines) args.push_back("--define=" + d);
    auto s = std::make_unique<Sidecar>(dir_, args, 0, "sidecar-" + id + ".log");
    if (!s->ready()) CPPUNIT_FAIL("sidecar " + id + " did not start: " + s->process().log());
    sidecars_[id] = std::move(s);
    return *sidecars_[id];
  }
  Sidecar& sidecarNamed(const std::string& id) { return *sidecars_.at(id); }

  /// Starts a proxy on the store; returns its port.
  int proxy(const std::vector<std::string>& defines = {}) {
    const int port = freePort();
    std::vector<std::string> args{
        "--define=store.url=" + url_,    "--define=proxy.port=" + std::to_string(port),
        "--define=proxy.host=127.0.0.1", "--define=proxy.status_port=off",
        "--define=proxy.access_log=off", "--define=proxy.reload_interval=100ms"};
    for (const auto& d : defines) args.push_back("--define=" + d);
    proxies_.push_back(std::make_unique<ChildProcess>(
        binary("portico-proxy"), args, dir_.file("proxy-" + std::to_string(port) + ".log"),
        dir_.path()));
    if (!waitForPort(port)) CPPUNIT_FAIL("proxy did not start: " + proxies_.back()->log());
    return port;
  }
  ChildProcess& proxyProcess(std::size_t i) { return *proxies_.at(i); }

  /// Starts portico-echo answering with its `name`; returns its URL.
  std::string echo(const std::string& name) {
    const int port = freePort();
    echos_[name] = std::make_unique<ChildProcess>(
        binary("portico-echo"),
        std::vector<std::string>{"--port=" + std::to_string(port), "--name=" + name},
        dir_.file("echo-" + name + ".log"), dir_.path());
    if (!waitForPort(port)) CPPUNIT_FAIL("echo " + name + " did not start");
    return localUrl(port);
  }
  ChildProcess& echoProcess(const std::string& name) { return *echos_.at(name); }

  /// SQL on the store (rows '\n', columns '|').
  std::string query(const std::string& sql) const { return PostgresServer::query(url_, sql); }

 private:
  PostgresServer& server_;
  TempDir dir_;
  std::string url_;
  std::string leaseTimeout_;
  std::map<std::string, std::unique_ptr<Sidecar>> sidecars_;
  std::vector<std::unique_ptr<ChildProcess>> proxies_;
  std::map<std::string, std::unique_ptr<ChildProcess>> echos_;
};

}  // namespace portico::test
