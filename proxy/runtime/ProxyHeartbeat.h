#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/ProxyRecord.h"
#include "store/StoreLocation.h"

namespace portico {

class Store;

/// The proxy's row in the store's `proxies` table (Store::reportProxy), written on a thread of
/// its own: right after each revision the proxy applies (applied()) and every heartbeat
/// interval. Never on an event loop and never on the reloader's thread, so a store that is slow
/// or locked delays no request and no reload: a busy store skips a beat (the next one catches
/// up), and a store that refuses the write (read-only, unreachable, an older schema) is logged
/// once per streak while the proxy keeps serving.
class ProxyHeartbeat {
 public:
  /// `report`: who the proxy is (id, addresses, version, start, intervals); its revision is
  /// the one it serves at start (-1: none yet, nothing written until one is applied).
  ProxyHeartbeat(StoreLocation store, ProxyReport report);
  ~ProxyHeartbeat();
  ProxyHeartbeat(const ProxyHeartbeat&) = delete;
  ProxyHeartbeat& operator=(const ProxyHeartbeat&) = delete;

  /// The proxy now serves `revision`: the row is written at once, or 20 ms after the last
  /// write (revisions applied meanwhile coalesce into one row). Any thread; never blocks on
  /// the store.
  void applied(std::int64_t revision);
  void start();
  /// Joins the thread (a write in progress finishes first), then writes the row once more as
  /// leaving: stale at once. Idempotent.
  void stop();

 private:
  void run();
  /// Writes the row once (a busy store: not at all; a refusal: logged).
  void beat(const ProxyReport& report);
  void failed(const std::string& message);

  const StoreLocation where_;
  const std::chrono::milliseconds interval_;
  std::unique_ptr<Store> store_;  // the heartbeat thread's own
  std::string failure_;           // the failure being repeated, logged once per streak

  std::mutex mutex_;  // guards report_.revision, due_, stopping_
  std::condition_variable wake_;
  ProxyReport report_;
  bool due_{true};  // a revision to report that is not written yet
  bool stopping_{false};
  std::thread thread_;
};

}  // namespace portico
