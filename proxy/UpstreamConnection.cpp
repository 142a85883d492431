#include "UpstreamConnection.h"

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

namespace portico {
namespace {

Poco::Timespan span(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

}  // namespace

UpstreamConnection::UpstreamConnection(const TargetUrl& url, const UpstreamTimeouts& timeouts)
    : HTTPClientSession(url.host, url.port) {
  setTimeout(span(timeouts.connect), span(timeouts.read), span(timeouts.read));
  setKeepAlive(true);
  // The pool decides when an idle connection is too old; POCO must not silently reconnect
  // underneath it (a reconnect would hide whether the request may be retried).
  setKeepAliveTimeout(Poco::Timespan(3600, 0));
}

void UpstreamConnection::open() {
  reconnect();
}

bool UpstreamConnection::looksStale() {
  try {
    // Nothing may arrive on an idle HTTP/1.1 connection: readable means closed (EOF/RST)
    // or garbage, either way unusable.
    return !connected() || socket().poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ |
                                                                Poco::Net::Socket::SELECT_ERROR);
  } catch (const Poco::Exception&) {
    return true;
  }
}

}  // namespace portico
