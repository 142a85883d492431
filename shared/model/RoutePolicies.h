#pragma once

#include <Poco/JSON/Object.h>

#include <set>
#include <string>

#include "model/RequestPolicy.h"
#include "model/Resilience.h"
#include "model/UpstreamPolicy.h"

namespace portico {

/// What a route does to a request besides choosing its target: path rewriting, headers,
/// timeouts, resilience, the upstream protocol. Each capability is a struct of its own in
/// model/ and a member here, with the same four operations:
///
///   static const std::set<std::string>& fields();  // the route body fields it reads
///   void read(const Poco::JSON::Object& body);     // applies the fields present over the current
///                                                  // values; InvalidInput naming the field
///   void write(Poco::JSON::Object& out) const;     // every field, defaults included
///   bool operator==(const P&) const;
///
/// The fields sit at the top level of a route body (`"stripPrefix": false`), are changed by
/// PATCH /endpoints/routes, and are stored as one JSON object in `routes.policies`, in the same
/// shape, so a new policy needs no migration. A default-constructed member is today's behaviour.
struct RoutePolicies {
  RequestPolicy request;
  UpstreamPolicy upstream;
  ResiliencePolicy resilience;  // retries, outlierDetection, maxRequests, rateLimit (#20)

  bool operator==(const RoutePolicies& o) const;
  bool operator!=(const RoutePolicies& o) const { return !(*this == o); }
};

/// Every route body field some policy reads.
const std::set<std::string>& routePolicyFields();

/// Applies the policy fields present in `body` over `policies`; throws InvalidInput naming the
/// first bad field. Fields that are no policy's are left to the caller.
void readRoutePolicies(const Poco::JSON::Object& body, RoutePolicies& policies);

/// Every policy field, defaults included, appended to `out` in a fixed order.
void writeRoutePolicies(const RoutePolicies& policies, Poco::JSON::Object& out);

/// The stored form (routes.policies) and back. Parsing throws InvalidInput for text that is not
/// a JSON object of known, valid fields (a row edited by hand).
std::string storedPolicies(const RoutePolicies& policies);
RoutePolicies parseStoredPolicies(const std::string& text);

}  // namespace portico
