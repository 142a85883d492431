#include "admin/AdminInput.h"

#include <Poco/JSON/Array.h>

#include <cmath>
#include <limits>

#include "admin/ApiError.h"
#include "admin/StrictJson.h"
#include "base/Duration.h"
#include "base/Errors.h"
#include "base/Utf8.h"
#include "model/JsonFields.h"
#include "model/Normalize.h"

namespace portico {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Object;

ApiError badRequest(const std::string& message) {
  return ApiError(400, message);
}

ApiError invalidField(const std::string& field, const std::string& why) {
  return badRequest(invalidFieldMessage(field, why));
}

int countField(const Object& object, const std::string& name, const std::string& field) {
  try {
    return static_cast<int>(integerField(object, name, field, 1, 1000));
  } catch (const InvalidInput& e) {
    throw badRequest(e.what());
  }
}

/// JsonFields' readers throw InvalidInput; every failure here is an ApiError(400).
std::chrono::milliseconds durationOf(const Object& object, const std::string& name,
                                     const std::string& field) {
  try {
    return durationField(object, name, field);
  } catch (const InvalidInput& e) {
    throw badRequest(e.what());
  }
}

std::string stringOf(const Object& object, const std::string& name, const std::string& field) {
  try {
    return stringField(object, name, field);
  } catch (const InvalidInput& e) {
    throw badRequest(e.what());
  }
}

}  // namespace

Object::Ptr parseJsonObject(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos)
    throw badRequest("request body is empty; expected a JSON object");
  Var parsed;
  try {
    parsed = parseStrictJson(body, 32);
  } catch (const InvalidInput& e) {
    throw badRequest(e.what());
  }
  if (parsed.type() != typeid(Object::Ptr)) throw badRequest("request body must be a JSON object");
  return parsed.extract<Object::Ptr>();
}

void rejectUnknownFields(const Object& object, const std::set<std::string>& known,
                         const std::string& where) {
  try {
    requireKnownFields(object, known, where);
  } catch (const InvalidInput& e) {
    throw badRequest(e.what());
  }
}

std::string normalizePrefixValue(const std::string& value, const std::string& field) {
  try {
    return normalizePrefix(value);
  } catch (const InvalidInput& e) {
    throw invalidField(field, e.what());
  }
}

std::string normalizeHostValue(const std::string& value, const std::string& field) {
  try {
    return normalizeHost(value);
  } catch (const InvalidInput& e) {
    throw invalidField(field, e.what());
  }
}

std::string readHostField(const Object& object) {
  if (!present(object, "host")) return "";
  return normalizeHostValue(stringOf(object, "host", "host"), "host");
}

RouteKey readRouteKeyField(const Object& object) {
  std::string prefix = readPrefixField(object);
  return RouteKey{readHostField(object), std::move(prefix)};
}

std::string canonicalTarget(const std::string& value, const std::string& field) {
  try {
    return parseTargetUrl(value).canonical;
  } catch (const InvalidInput& e) {
    throw invalidField(field, e.what());
  }
}

std::string readPrefixField(const Object& object) {
  if (!present(object, "prefixPath")) throw badRequest("missing field 'prefixPath'");
  return normalizePrefixValue(stringOf(object, "prefixPath", "prefixPath"), "prefixPath");
}

std::vector<std::string> readTargetsField(const Object& object, bool required) {
  if (!present(object, "targets")) {
    if (required) throw badRequest("missing field 'targets'");
    return {};
  }
  const auto array = object.getArray("targets");
  if (!array) throw invalidField("targets", "must be an array of target URLs");
  if (required && array->size() == 0) throw invalidField("targets", "must not be empty");
  std::vector<std::string> urls;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string field = "targets[" + std::to_string(i) + "]";
    const Var v = array->get(static_cast<unsigned>(i));
    if (!v.isString()) throw invalidField(field, "must be a string");
    std::string url = canonicalTarget(v.extract<std::string>(), field);
    if (seen.insert(url).second) urls.push_back(std::move(url));
  }
  return urls;
}

BalancerKind readBalancerField(const Object& object) {
  if (!present(object, "balancer")) return BalancerKind::RoundRobin;
  try {
    return parseBalancer(stringOf(object, "balancer", "balancer"));
  } catch (const InvalidInput& e) {
    throw invalidField("balancer", e.what());
  }
}

std::optional<HealthSpec> readHealthCheckField(const Object& object, const HealthSpec& base) {
  if (!present(object, "healthCheck")) return std::nullopt;
  const auto check = object.getObject("healthCheck");
  if (!check) throw invalidField("healthCheck", "must be an object");
  rejectUnknownFields(
      *check, {"interval", "timeout", "type", "path", "grpcService", "fall", "rise", "slowStart"},
      "healthCheck.");
  HealthSpec spec = base;
  if (present(*check, "interval"))
    spec.interval = durationOf(*check, "interval", "healthCheck.interval");
  if (present(*check, "timeout"))
    spec.timeout = durationOf(*check, "timeout", "healthCheck.timeout");
  if (present(*check, "type")) {
    try {
      spec.type = parseProbeType(stringOf(*check, "type", "healthCheck.type"));
    } catch (const InvalidInput& e) {
      throw invalidField("healthCheck.type", e.what());
    }
  }
  if (present(*check, "path")) spec.path = stringOf(*check, "path", "healthCheck.path");
  if (present(*check, "grpcService")) {
    spec.grpcService = stringOf(*check, "grpcService", "healthCheck.grpcService");
    try {
      HealthSpec::validateGrpcService(spec.grpcService);
    } catch (const InvalidInput& e) {
      throw invalidField("healthCheck.grpcService", e.what());
    }
  }
  if (present(*check, "fall")) spec.fall = countField(*check, "fall", "healthCheck.fall");
  if (present(*check, "rise")) spec.rise = countField(*check, "rise", "healthCheck.rise");
  if (present(*check, "slowStart"))
    spec.slowStart = durationOf(*check, "slowStart", "healthCheck.slowStart");
  try {
    spec.validate();
  } catch (const InvalidInput& e) {
    throw invalidField("healthCheck", e.what());
  }
  return spec;
}

}  // namespace portico
