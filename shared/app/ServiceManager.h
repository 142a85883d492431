#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace portico {

/// What a program tells systemd about itself (sd_notify, for units of Type=notify): ready,
/// reloading, stopping, and the watchdog's pings. Outside systemd (no NOTIFY_SOCKET) every call
/// does nothing. NotifyAccess=all in the unit lets the process a binary upgrade starts say
/// READY=1 and MAINPID= before its parent exits.
class ServiceManager {
 public:
  ServiceManager() = default;
  ~ServiceManager() { stopWatchdog(); }
  ServiceManager(const ServiceManager&) = delete;
  ServiceManager& operator=(const ServiceManager&) = delete;

  /// READY=1, with MAINPID= this process (the main process from now on) and `status`.
  static void ready(const std::string& status);
  /// RELOADING=1: a binary upgrade started; the new process's READY=1 ends it.
  static void reloading();
  /// STOPPING=1: the service is going away (never sent by a process a successor replaced).
  static void stopping();

  /// Pings WATCHDOG=1 every half WatchdogSec= while `alive()` says so; a program whose loops
  /// stopped answering is restarted by systemd. Does nothing without WATCHDOG_USEC.
  void startWatchdog(std::function<bool()> alive);
  void stopWatchdog();

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_{false};
  std::thread thread_;
};

}  // namespace portico
