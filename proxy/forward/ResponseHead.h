#pragma once

#include <string>

#include "forward/ForwardingPolicy.h"
#include "http/HttpHead.h"

namespace portico {

/// A target's response head as the client gets it, ready for a codec to write: the policy's
/// judgement of the head (framing, upgrade) and the headers it passes on. An HTTP/1.1
/// connection writes it as text, an HTTP/2 stream as a header list; neither needs to know the
/// forwarding policy. A view: valid during the ExchangeClient call that hands it over.
class ResponseHead {
 public:
  ResponseHead(const ForwardingPolicy& policy, const http::HttpHead& upstream,
               const ForwardingPolicy::Response& plan)
      : policy_(policy), upstream_(upstream), plan_(plan) {}

  int status() const { return upstream_.status(); }
  const http::HttpHead& upstream() const { return upstream_; }
  const ForwardingPolicy::Response& plan() const { return plan_; }
  /// The body goes to the client in chunks (HTTP/1.1).
  bool chunked() const { return plan_.client == http::BodyFraming::Chunked; }
  /// The client connection must close after this response, whatever the client asked.
  bool closesClient() const { return plan_.closeClient; }

  /// The status line and headers for an HTTP/1.1 client, appended to `out`. `keepAlive`: the
  /// connection stays open afterwards (a 101 always does).
  void writeHttp1(bool keepAlive, std::string& out) const {
    policy_.writeResponseHead(upstream_, plan_, keepAlive, out);
  }
  /// The proxy adds its own Date / Server (the target sent none, the route removes neither).
  bool addsDate() const { return policy_.addsDate(upstream_); }
  bool addsServer() const { return policy_.addsServer(upstream_); }
  /// Calls f(name, value) for every header of the target's the client gets, framing and
  /// hop-by-hop headers excluded.
  template <class F>
  void forEachHeader(F&& f) const {
    policy_.forEachResponseHeader(upstream_, f);
  }

 private:
  const ForwardingPolicy& policy_;
  const http::HttpHead& upstream_;
  const ForwardingPolicy::Response& plan_;
};

}  // namespace portico
