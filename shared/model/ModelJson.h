#pragma once

#include <Poco/JSON/Object.h>

#include <string>

#include "model/Model.h"

namespace portico {

// JSON shapes of model values that both the admin API's answers and the change history use.

/// A new object that keeps its fields in the order they were set (answers keep the documented
/// field order).
Poco::JSON::Object::Ptr jsonObject();

/// {"interval":"5s","timeout":"3s","type","path",["grpcService" for grpc checks,]"fall","rise",
/// "slowStart":"0ms"}
Poco::JSON::Object::Ptr healthCheckJson(const HealthSpec& health);

/// Compact JSON text of `object`, always valid UTF-8.
std::string toJsonText(const Poco::JSON::Object::Ptr& object);

}  // namespace portico
