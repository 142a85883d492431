#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "health/GrpcHealthCodec.h"
#include "health/Probe.h"
#include "model/Model.h"

struct nghttp2_session;

namespace portico {

/// One `grpc.health.v1.Health/Check` call as an HTTP/2 client session (nghttp2) over bytes:
/// the probe connection hands it what it reads and sends what it produces, so the session
/// itself does no I/O and needs no event loop. One session per probe, one stream per session.
class GrpcProbeSession {
 public:
  /// `authority` and `tls` (the :scheme) as the target's URL says; `spec` gives the service and
  /// the timeout (sent as grpc-timeout, so the target gives up when the probe does).
  GrpcProbeSession(const std::string& authority, bool tls, const HealthSpec& spec);
  ~GrpcProbeSession();
  GrpcProbeSession(const GrpcProbeSession&) = delete;
  GrpcProbeSession& operator=(const GrpcProbeSession&) = delete;

  /// Appends the bytes to send now (the preface, SETTINGS, the call, acknowledgements) to
  /// `out`; false when the session failed (result() says why).
  bool output(std::string& out);
  /// Bytes the target sent; false when they broke the protocol (result() says why).
  bool input(const char* data, std::size_t size);
  /// The verdict once the call ended (or the session failed); nullopt while it runs.
  std::optional<ProbeResult> result() const;
  /// The target closed the connection: the verdict, whatever arrived.
  ProbeResult closed() const;

 private:
  struct Callbacks;

  nghttp2_session* session_{nullptr};
  std::string body_;  // the request's one gRPC message
  std::size_t bodySent_{0};
  std::int32_t stream_{-1};
  GrpcAnswer answer_;
  std::string failure_;  // a session error: the verdict
};

}  // namespace portico
