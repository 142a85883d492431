#pragma once

#include <Poco/JSON/Object.h>

#include <string>

#include "Model.h"

namespace portico {

// The admin API's answer shapes. Empty times and errors are JSON null, never "".

/// {"target","healthy","lastCheckedAt","lastChangedAt","lastError"}
Poco::JSON::Object::Ptr targetJson(const TargetRecord& target);

/// {"interval":"5s","timeout":"3s","type","path","fall","rise"}
Poco::JSON::Object::Ptr healthCheckJson(const HealthSpec& health);

/// {"prefixPath","balancer","healthCheck","targets":[target...]}
Poco::JSON::Object::Ptr routeJson(const RouteRecord& route);

/// A new ordered object; answers keep the documented field order.
Poco::JSON::Object::Ptr jsonObject();

/// Compact JSON text of `object`, always valid UTF-8.
std::string toJsonText(const Poco::JSON::Object::Ptr& object);

}  // namespace portico
