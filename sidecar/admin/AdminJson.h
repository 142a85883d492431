#pragma once

#include <Poco/JSON/Object.h>

#include <string>

#include "model/Model.h"
#include "model/ModelJson.h"
#include "observe/ProxyStates.h"

namespace portico {

// The admin API's answer shapes. Empty times and errors are JSON null, never "".

/// {"target","healthy","lastCheckedAt","lastChangedAt","lastError","weight","state",
///  "servingSince","modifiedAt"}
Poco::JSON::Object::Ptr targetJson(const TargetRecord& target);

/// {"prefixPath","balancer","healthCheck","targets":[target...]}
Poco::JSON::Object::Ptr routeJson(const RouteRecord& route);

/// {"revision","time","actor","client","action","route","target","before","after"}, and
/// "revertOf" on the rows of a revert.
Poco::JSON::Object::Ptr changeJson(const ChangeRecord& change);

/// {"revision","proxies":[{"id","addresses","version","startedAt","revision","appliedAt",
///  "lastSeen","state"}...]}: the roster without the proxies it has forgotten.
Poco::JSON::Object::Ptr proxiesJson(const ProxyRoster& roster, const ProxyStateRules& rules);

}  // namespace portico
