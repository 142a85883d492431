#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/ClientPhase.h"
#include "loop/Exchange.h"
#include "loop/Http2RequestHead.h"
#include "net/TimerList.h"

namespace portico {

class Http2Connection;
class Http2FieldList;

/// One request/response stream of an HTTP/2 connection: the client side of an Exchange, as an
/// HTTP/1.1 connection is for its requests. The stream keeps HTTP/1.1's client timeouts
/// (ClientPhase decides which runs, the loop's TimerLists keep them; the timer lives in the
/// stream, so arming it never allocates): a head or body that stalls gets 408 (or a reset once
/// a response started) within client_header_timeout / client_body_timeout, and a response the
/// client does not take (its flow-control window stays closed) is reset after send_timeout. In
/// each case the target's request is abandoned (its connection closed, never pooled).
class Http2Stream final : public ExchangeClient, public net::TimerHandler {
 public:
  Http2Stream(Http2Connection& connection, std::int32_t id);
  ~Http2Stream() override;
  Http2Stream(const Http2Stream&) = delete;
  Http2Stream& operator=(const Http2Stream&) = delete;

  // From nghttp2's callbacks, through the connection.
  void addHeader(std::string_view name, std::string_view value) { request_->add(name, value); }
  /// A request trailer field: kept for an HTTP/2 target (requestTrailers()).
  void addTrailer(std::string_view name, std::string_view value) {
    requestTrailers_.emplace_back(name);
    requestTrailers_.emplace_back(value);
  }
  /// The request head is complete; `endStream`: it has no body. The request waits for
  /// dispatch(), which the connection calls once the input that brought the head is processed.
  void headersDone(bool endStream);
  /// Routes the request and starts its exchange. A stream the client reset in the same input
  /// is never dispatched, so rapid reset (CVE-2023-44487) costs no target connection.
  void dispatch();
  /// Request body bytes from a DATA frame.
  void data(const std::uint8_t* bytes, std::size_t size);
  void endOfRequest();
  /// The stream closed (either side, or the connection went away).
  void closed();
  /// nghttp2 pulls the response body from here.
  ssize_t read(std::uint8_t* buffer, std::size_t length, std::uint32_t* flags);

  // ExchangeClient
  void requestBodyWanted() override;
  void respond(const ResponseHead& head) override;
  void responseBody(std::string_view bytes) override;
  bool flushResponse() override;
  void responseTrailers(const http::HttpHead& trailers) override;
  const std::vector<std::string>* requestTrailers() const override {
    return requestTrailers_.empty() ? nullptr : &requestTrailers_;
  }
  void responseEnd() override;
  void answer(const ProxyAnswer& answer) override;
  void abortResponse() override;
  void switchProtocols(const ResponseHead& head,
                       std::unique_ptr<UpstreamChannel> upstreamChannel) override;

  // TimerHandler: tag is the ClientPhase::Timeout that ran out.
  void onTimeout(int tag) override;

 private:
  /// Queues the response head and, with `body`, the stream's output as its body.
  void submit(Http2FieldList& fields, bool body);
  void deliverMore();
  /// The proxy's own answer to a gRPC request: trailers-only, grpc-status and grpc-message.
  void answerGrpc(const ProxyAnswer& answer);
  /// Submits trailers_ as the stream's last HEADERS (from read(), at the end of the body).
  void sendTrailers(std::uint32_t* flags);
  void releaseBody();
  /// Arms the timeout the phase says runs now (O(1), no allocation).
  void apply();
  /// The response bytes not yet taken by nghttp2 decide whether the send timeout runs.
  void outputChanged(bool progress);
  void reset(std::uint32_t errorCode);
  void abandon();
  /// The stream's exchange, taken from the loop's pool at its first use (dispatch, or the log
  /// line of an answer of the stream's own), its RequestContext begun at the stream's start: a
  /// stream reset before it started (rapid reset) never takes one.
  Exchange& exchange();
  void log(int status, std::uint64_t bytes);

  Http2Connection& conn_;
  std::int32_t id_;
  RequestContext::Clock::time_point started_;
  std::unique_ptr<Http2RequestHead> request_;  // the connection's, given back when done
  std::unique_ptr<Exchange> exchange_;         // null until exchange()
  ClientPhase phase_;
  ClientPhase::Timeout armed_{ClientPhase::Timeout::None};
  net::Timer timer_;
  bool headComplete_{false};
  bool bodyWanted_{false};
  bool requestEnded_{false};
  std::vector<std::string> requestTrailers_;  // name, value, name, value...
  std::string pendingBody_;
  std::size_t unconsumed_{0};
  std::string out_;
  std::size_t outPos_{0};
  // Sent after the body (gRPC status); the connection's, given back once submitted.
  std::unique_ptr<Http2FieldList> trailers_;
  bool outEnd_{false};
  bool eofQueued_{false};  // nghttp2 has (or will send) the response's END_STREAM
  bool paused_{false};
  bool answered_{false};
  bool closed_{false};
  bool logged_{false};
  int status_{0};
  std::uint64_t bytes_{0};
};

}  // namespace portico
