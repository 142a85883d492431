#include "ProbeTcp.h"

#include "ProbeConnect.h"

namespace portico {

ProbeResult ProbeTcp::check(const TargetUrl& target, const HealthSpec& spec,
                            std::chrono::steady_clock::time_point deadline) {
  Poco::Net::StreamSocket socket;
  if (auto failed = ProbeConnect::open(socket, target, spec, deadline)) return *failed;
  ProbeConnect::abort(socket);
  return ProbeResult::success();
}

}  // namespace portico
