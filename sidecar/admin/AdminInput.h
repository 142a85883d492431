#pragma once

#include <Poco/JSON/Object.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/Model.h"

namespace portico {

// Reading admin request bodies and query values. Every failure is an ApiError(400) whose
// message names the field, so a client can tell what to fix.

/// Parses a body that must be one JSON object: valid UTF-8, nothing after the value but
/// whitespace, no key twice in one object (see parseStrictJson).
Poco::JSON::Object::Ptr parseJsonObject(const std::string& body);

/// Rejects fields other than `known`; `where` prefixes the field name ("healthCheck.").
void rejectUnknownFields(const Poco::JSON::Object& object, const std::set<std::string>& known,
                         const std::string& where = "");

/// The required `prefixPath` field, normalised.
std::string readPrefixField(const Poco::JSON::Object& object);

/// The optional `host` field, normalised ("" when absent: the any-host route).
std::string readHostField(const Poco::JSON::Object& object);

/// The route a body names: its required `prefixPath` and optional `host`.
RouteKey readRouteKeyField(const Poco::JSON::Object& object);

/// A `host` query value, normalised (`field` names it in errors).
std::string normalizeHostValue(const std::string& value, const std::string& field);

/// A `prefixPath` query value, normalised (`field` names it in errors).
std::string normalizePrefixValue(const std::string& value, const std::string& field);

/// A target URL in canonical form (`field` names it in errors).
std::string canonicalTarget(const std::string& value, const std::string& field);

/// The `targets` array as canonical URLs, duplicates dropped (first kept). When `required`,
/// a missing or empty array is rejected; otherwise missing means none.
std::vector<std::string> readTargetsField(const Poco::JSON::Object& object, bool required);

/// The optional `balancer` field; round_robin when absent.
BalancerKind readBalancerField(const Poco::JSON::Object& object);

/// The optional `healthCheck` object (interval, timeout, type, path, fall, rise, slowStart) applied
/// over `base` (fields it omits keep base's values),
/// validated. Durations are strings with a unit or JSON numbers of nanoseconds.
std::optional<HealthSpec> readHealthCheckField(const Poco::JSON::Object& object,
                                               const HealthSpec& base);

}  // namespace portico
