#pragma once

#include "net/IntrusiveList.h"
#include "net/Releasable.h"

namespace portico {

/// A client connection an event loop owns, whatever stage it is at (a TLS handshake, HTTP/1.1,
/// HTTP/2): the loop keeps them in one list, drains them when the proxy stops and releases each
/// after the batch of events that closed it (EventLoop::releaseLater).
class ClientSession : public net::Releasable {
 public:
  ClientSession() = default;
  virtual ~ClientSession() = default;
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  /// The proxy is stopping: close now when idle, else once the requests in flight are done.
  virtual void drain() = 0;

  net::ListNode& node() { return node_; }
  static ClientSession* of(net::ListNode* node) {
    return net::owner<ClientSession, &ClientSession::node_>(node);
  }

 private:
  net::ListNode node_;
};

}  // namespace portico
