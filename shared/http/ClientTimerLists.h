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

/// Keeps a client's `timer` on the list of the timeout `phase` says runs (`listOf(timeout)`;
/// null: none runs, the timer comes off its list): re-armed when that timeout changed or the
/// phase asks for a restart, else left alone. `armed` is the timeout the timer runs for, and
/// its tag. HTTP/1.1 connections, HTTP/2 streams and the admin listener's connections all
/// follow their phase this way. False when nothing changed.
template <typename ListOf>
bool followPhase(ClientPhase& phase, ClientPhase::Timeout& armed, net::Timer& timer,
                 ListOf&& listOf, std::int64_t now) {
  const ClientPhase::Timeout timeout = phase.timeout();
  const bool restart = phase.takeRestart();
  if (timeout == armed && !restart) return false;
  armed = timeout;
  timer.tag = static_cast<int>(timeout);
  if (net::TimerList* list = listOf(timeout)) {
    list->arm(timer, now);
  } else {
    timer.cancel();
  }
  return true;
}

}  // namespace portico
