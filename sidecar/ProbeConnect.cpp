#include "ProbeConnect.h"

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>

#include "Duration.h"

namespace portico {

std::optional<long long> ProbeConnect::remainingMicros(
    std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return std::nullopt;
  return left.count();
}

ProbeResult ProbeConnect::timedOut(const HealthSpec& spec) {
  return ProbeResult::failure("timeout after " + formatDuration(spec.timeout));
}

std::optional<ProbeResult> ProbeConnect::open(Poco::Net::StreamSocket& socket,
                                              const TargetUrl& target, const HealthSpec& spec,
                                              std::chrono::steady_clock::time_point deadline) {
  try {
    const Poco::Net::SocketAddress address(target.host, target.port);
    const auto left = remainingMicros(deadline);
    if (!left) return timedOut(spec);
    socket.connect(address, Poco::Timespan(*left));
    return std::nullopt;
  } catch (const Poco::TimeoutException&) {
    return timedOut(spec);
  } catch (const Poco::Net::NetException& e) {
    // name() is the errno text ("Connection refused"); message() repeats the address.
    return ProbeResult::failure("connect: " + std::string(e.name()));
  } catch (const Poco::Exception& e) {
    return ProbeResult::failure("connect: " + e.displayText());
  }
}

void ProbeConnect::abort(Poco::Net::StreamSocket& socket) {
  try {
    socket.setLinger(true, 0);
    socket.close();
  } catch (const Poco::Exception&) {
    // Already closed or reset by the peer: nothing left to release.
  }
}

}  // namespace portico
