#include "model/RoutePolicies.h"

#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include <cassert>

#include "base/Errors.h"
#include "model/JsonFields.h"
#include "model/ModelJson.h"

namespace portico {

bool RoutePolicies::operator==(const RoutePolicies& o) const {
  return request == o.request && upstream == o.upstream && resilience == o.resilience;
}

const std::set<std::string>& routePolicyFields() {
  static const std::set<std::string> fields = [] {
    std::set<std::string> all;
    all.insert(UpstreamPolicy::fields().begin(), UpstreamPolicy::fields().end());
    all.insert(RequestPolicy::fields().begin(), RequestPolicy::fields().end());
    all.insert(ResiliencePolicy::fields().begin(), ResiliencePolicy::fields().end());
    return all;
  }();
  return fields;
}

void readRoutePolicies(const Poco::JSON::Object& body, RoutePolicies& policies) {
  policies.request.read(body);
  policies.upstream.read(body);
  policies.resilience.read(body);
}

void writeRoutePolicies(const RoutePolicies& policies, Poco::JSON::Object& out) {
  policies.request.write(out);
  policies.upstream.write(out);
  policies.resilience.write(out);
}

namespace {

std::string writeStored(const RoutePolicies& policies) {
  auto o = jsonObject();
  writeRoutePolicies(policies, *o);
  return toJsonText(o);
}

RoutePolicies readStored(const std::string& text) {
  Poco::Dynamic::Var parsed;
  try {
    Poco::JSON::Parser parser(Poco::makeShared<Poco::JSON::ParseHandler>(true));
    parsed = parser.parse(text);
  } catch (const Poco::Exception& e) {
    throw InvalidInput("route policies are not JSON: " + e.displayText());
  }
  if (parsed.type() != typeid(Poco::JSON::Object::Ptr))
    throw InvalidInput("route policies must be a JSON object");
  const auto object = parsed.extract<Poco::JSON::Object::Ptr>();
  requireKnownFields(*object, routePolicyFields());
  RoutePolicies policies;
  readRoutePolicies(*object, policies);
  return policies;
}

/// Most routes keep every default: their stored form is made once, and read back without a
/// parse. Poco's JSON writer and parser were a tenth of the sidecar's CPU per route created
/// (the row written, the route read back for the answer and by every follower; issue 22).
const std::string& defaultStored() {
  static const std::string text = [] {
    std::string made = writeStored(RoutePolicies{});
    assert(readStored(made) == RoutePolicies{});  // the shortcut reads what a parse would
    return made;
  }();
  return text;
}

}  // namespace

std::string storedPolicies(const RoutePolicies& policies) {
  if (policies == RoutePolicies{}) return defaultStored();
  return writeStored(policies);
}

RoutePolicies parseStoredPolicies(const std::string& text) {
  if (text == defaultStored()) return RoutePolicies{};
  return readStored(text);
}

}  // namespace portico
