#pragma once

#include "http/ClientPhase.h"
#include "net/TimerList.h"

namespace portico {

/// The timer lists an event loop keeps for its clients, one per ClientPhase::Timeout (null:
/// that timeout does not exist there). The one mapping from the timeout a phase says runs to
/// the list that runs it, for the proxy's loops (HTTP/1.1 connections and HTTP/2 streams) and
/// the admin HTTP server alike.
struct ClientTimerLists {
  net::TimerList* header{nullptr};
  net::TimerList* body{nullptr};
  net::TimerList* send{nullptr};
  net::TimerList* keepAlive{nullptr};
  net::TimerList* linger{nullptr};
  net::TimerList* tunnel{nullptr};

  net::TimerList* of(ClientPhase::Timeout timeout) const {
    using T = ClientPhase::Timeout;
    switch (timeout) {
      case T::Header:
        return header;
      case T::Body:
        return body;
      case T::Send:
        return send;
      case T::KeepAlive:
        return keepAlive;
      case T::Linger:
        return linger;
      case T::Tunnel:
        return tunnel;
      case T::None:
        break;
    }
    return nullptr;
  }
};

}  // namespace portico
