#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "health/HealthSchedule.h"
#include "health/Probe.h"
#include "http/HttpParser.h"
#include "net/EventLoop.h"
#include "net/Registration.h"
#include "net/Releasable.h"
#include "net/Stream.h"
#include "net/TimerList.h"
#include "net/Tls.h"

namespace portico {

class ProbeConnection;

/// Told once when a probe has its result; the connection is closed by then and may be released
/// with EventLoop::releaseLater (not inside the call: its events may still be dispatched).
class ProbeDone {
 public:
  virtual ~ProbeDone() = default;
  virtual void finished(ProbeConnection& probe, ProbeResult result) = 0;
};

/// One probe on an event loop, never blocking it: a non-blocking connect (a tcp check ends
/// there, TLS targets included), then for an http check TLS when the target is https, the
/// request, and the response's status line and headers (the body is not read). The timer in
/// `timeouts` (a list of the route's timeout) ends it at the deadline. Every way out closes with
/// RST: a checker opening thousands of connections a second must not leave them in TIME_WAIT.
class ProbeConnection final : public net::EventHandler,
                              public net::TimerHandler,
                              public net::Releasable {
 public:
  ProbeConnection(net::EventLoop& loop, ProbeDone& done, HealthJob job);
  ~ProbeConnection() override;
  ProbeConnection(const ProbeConnection&) = delete;
  ProbeConnection& operator=(const ProbeConnection&) = delete;

  /// Starts the probe; `tls` is how https targets are spoken to (null: an https http check
  /// fails). May finish at once (a refused connect).
  void start(net::TimerList& timeouts, const net::TlsClientConfig* tls);
  /// Ends the probe without a result (the checker stops).
  void cancel();

  const HealthJob& job() const { return job_; }
  std::int64_t startedMs() const { return startedMs_; }
  bool done() const { return phase_ == Phase::Done; }

  void onEvent(std::uint32_t events) override;
  void onTimeout(int tag) override;

 private:
  enum class Phase { Connecting, Handshaking, Sending, Receiving, Done };

  void connected();
  void handshake();
  void send();
  void receive();
  void watch(std::uint32_t events);  // finishes the probe when epoll refuses
  void finish(ProbeResult result);

  net::EventLoop& loop_;
  ProbeDone& done_;
  HealthJob job_;
  const net::TlsClientConfig* tls_{nullptr};
  net::Stream stream_;
  net::Timer timer_;
  Phase phase_{Phase::Connecting};
  net::Registration registration_;  // stream_'s descriptor on the loop
  std::int64_t startedMs_{0};
  std::string request_;
  std::size_t sent_{0};
  std::string response_;
  std::unique_ptr<http::HttpParser> parser_;
};

}  // namespace portico
