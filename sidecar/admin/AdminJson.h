#pragma once

#include <Poco/JSON/Object.h>

#include <string>

#include "model/Model.h"
#include "model/ModelJson.h"

namespace portico {

// The admin API's answer shapes. Empty times and errors are JSON null, never "".

/// {"target","healthy","lastCheckedAt","lastChangedAt","lastError","weight","state",
///  "servingSince","modifiedAt"}
Poco::JSON::Object::Ptr targetJson(const TargetRecord& target);

/// {"prefixPath","balancer","healthCheck","targets":[target...]}
Poco::JSON::Object::Ptr routeJson(const RouteRecord& route);

/// {"revision","time","actor","client","action","route","target","before","after"}
Poco::JSON::Object::Ptr changeJson(const ChangeRecord& change);

}  // namespace portico
