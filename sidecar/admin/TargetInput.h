#pragma once

#include <Poco/JSON/Object.h>

#include <vector>

#include "model/Model.h"

namespace portico {

// Reading target weights and states from admin request bodies. Failures are ApiError(400)
// naming the field, like the rest of AdminInput.

/// The `targets` array of an add or a new route: each item a URL string or an object
/// {"target": URL, "weight": 0-1000}; canonical URLs, duplicates dropped (first kept). When
/// `required`, a missing or empty array is rejected; otherwise missing means none.
std::vector<TargetSpec> readTargetSpecsField(const Poco::JSON::Object& object, bool required);

/// The body of a PATCH of one target: any of {"weight": 0-1000, "state": "active" | "draining" |
/// "disabled"}, at least one.
TargetUpdate readTargetUpdate(const Poco::JSON::Object& object);

}  // namespace portico
