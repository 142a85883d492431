#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "health/GrpcProbeSession.h"
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

/// Told once when a probe has its result; unless the connection is kept() for the next probe,
/// it is closed by then and may be released with EventLoop::releaseLater (not inside the call:
/// its events may still be dispatched). Told again, by idleClosed(), when a kept connection
/// closes while it waits.
class ProbeDone {
 public:
  virtual ~ProbeDone() = default;
  virtual void finished(ProbeConnection& probe, ProbeResult result) = 0;
  virtual void idleClosed(ProbeConnection& probe) = 0;
};

/// One probe on an event loop, never blocking it: a non-blocking connect (a tcp check ends
/// there, TLS targets included), then for an http check TLS when the target is https, the
/// request, and the response's status line and headers; for a grpc check TLS with ALPN h2 when
/// the target is https, and one `grpc.health.v1.Health/Check` call over HTTP/2. The timer in
/// `timeouts` (a list of the route's timeout) ends it at the deadline. Every way out closes with
/// RST: a checker opening thousands of connections a second must not leave them in TIME_WAIT.
///
/// An http probe started with keep-alive asks the target to keep the connection (HTTP/1.1
/// without `Connection: close`) and reads the whole answer; when the answer leaves the
/// connection reusable (ProbeKeepAlive::reusable) it stays open, kept(), and parkIn() holds it
/// until reuse() runs the target's next probe on it.
class ProbeConnection final : public net::EventHandler,
                              public net::TimerHandler,
                              public net::Releasable {
 public:
  ProbeConnection(net::EventLoop& loop, ProbeDone& done, HealthJob job);
  ~ProbeConnection() override;
  ProbeConnection(const ProbeConnection&) = delete;
  ProbeConnection& operator=(const ProbeConnection&) = delete;

  /// Starts the probe; `tls` is how https targets are spoken to (null: an https http check
  /// fails); `keepAlive`: an http probe asks to keep the connection. May finish at once (a
  /// refused connect).
  void start(net::TimerList& timeouts, const net::TlsClientConfig* tls, bool keepAlive = false);
  /// Runs `job` (the same target's next probe) on this kept connection.
  void reuse(HealthJob job, net::TimerList& timeouts);
  /// Holds this kept connection until reuse(), for at most `idle`'s duration (false: epoll
  /// refused it, cancel() it); a close by the target or the idle limit reach
  /// ProbeDone::idleClosed.
  [[nodiscard]] bool parkIn(net::TimerList& idle);
  /// Ends the probe without a result (the checker stops), or closes a kept connection.
  void cancel();

  const HealthJob& job() const { return job_; }
  std::int64_t startedMs() const { return startedMs_; }
  bool done() const { return phase_ == Phase::Done || phase_ == Phase::Kept; }
  /// After finished(): the connection is open and may carry the target's next probe.
  bool kept() const { return phase_ == Phase::Kept; }
  /// The probe asked to keep its connection (it counts against health.keepalive_max).
  bool keepAlive() const { return keepAlive_; }

  void onEvent(std::uint32_t events) override;
  void onTimeout(int tag) override;

 private:
  enum class Phase { Connecting, Handshaking, Sending, Receiving, Grpc, Kept, Done };

  void dial();    // the non-blocking connect
  void redial();  // a kept connection turned out closed: a new one, same probe
  void connected();
  void startTls(bool h2);
  void handshake();
  void secured();
  void send();
  void receive();
  /// One read into response_; false when the probe finished.
  bool readMore(net::Io& io);
  /// Feeds what was read to the parser; true when the probe finished.
  bool parse();
  void grpc();
  bool grpcFlush();
  void watch(std::uint32_t events);  // finishes the probe when epoll refuses
  void finish(ProbeResult result, bool keep = false);

  net::EventLoop& loop_;
  ProbeDone& done_;
  HealthJob job_;
  const net::TlsClientConfig* tls_{nullptr};
  net::Stream stream_;
  net::Timer timer_;
  Phase phase_{Phase::Connecting};
  net::Registration registration_;  // stream_'s descriptor on the loop
  std::int64_t startedMs_{0};
  bool keepAlive_{false};
  bool reused_{false};  // this probe runs on a kept connection and nothing came back yet
  std::string request_;
  std::size_t sent_{0};
  std::string response_;
  std::size_t parsed_{0};  // bytes of response_ the parser has taken
  std::unique_ptr<http::HttpParser> parser_;
  std::optional<ProbeResult> verdict_;  // from the head, while the body is read to its end
  std::unique_ptr<GrpcProbeSession> grpc_;
};

}  // namespace portico
