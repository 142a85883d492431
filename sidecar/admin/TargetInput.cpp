#include "admin/TargetInput.h"

#include <Poco/JSON/Array.h>

#include <set>

#include "admin/AdminInput.h"
#include "admin/ApiError.h"
#include "base/Errors.h"
#include "model/JsonFields.h"

namespace portico {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Object;

ApiError invalidField(const std::string& field, const std::string& why) {
  return ApiError(400, invalidFieldMessage(field, why));
}

/// The integer `name` within 0..max; `range` says which ("an integer from 0 to 1000").
int boundedField(const Object& object, const std::string& name, const std::string& field, int max,
                 const std::string& range) {
  const Var v = object.get(name);
  if (v.isBoolean() || !v.isInteger()) throw invalidField(field, "must be " + range);
  const double n = v.convert<double>();
  if (n < 0 || n > max) throw invalidField(field, "must be " + range);
  return static_cast<int>(n);
}

int weightField(const Object& object, const std::string& field) {
  return boundedField(object, "weight", field, kMaxWeight,
                      "an integer from 0 to " + std::to_string(kMaxWeight));
}

int maxConnectionsField(const Object& object, const std::string& field) {
  return boundedField(object, "maxConnections", field, kMaxTargetConnections,
                      "an integer from 0 (unlimited) to " + std::to_string(kMaxTargetConnections));
}

}  // namespace

std::vector<TargetSpec> readTargetSpecsField(const Object& object, bool required) {
  if (!present(object, "targets")) {
    if (required) throw ApiError(400, "missing field 'targets'");
    return {};
  }
  const auto array = object.getArray("targets");
  if (!array)
    throw invalidField("targets", "must be an array of target URLs or {\"target\",\"weight\"}");
  if (required && array->size() == 0) throw invalidField("targets", "must not be empty");
  std::vector<TargetSpec> targets;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string field = "targets[" + std::to_string(i) + "]";
    const Var v = array->get(static_cast<unsigned>(i));
    TargetSpec target("");
    if (v.isString()) {
      target.url = canonicalTarget(v.extract<std::string>(), field);
    } else if (v.type() == typeid(Object::Ptr)) {
      const auto& item = v.extract<Object::Ptr>();
      rejectUnknownFields(*item, {"target", "weight", "maxConnections"}, field + ".");
      if (!present(*item, "target")) throw ApiError(400, "missing field '" + field + ".target'");
      const Var url = item->get("target");
      if (!url.isString()) throw invalidField(field + ".target", "must be a string");
      target.url = canonicalTarget(url.extract<std::string>(), field + ".target");
      if (present(*item, "weight")) target.weight = weightField(*item, field + ".weight");
      if (present(*item, "maxConnections"))
        target.maxConnections = maxConnectionsField(*item, field + ".maxConnections");
    } else {
      throw invalidField(field, "must be a URL string or an object {\"target\",\"weight\"}");
    }
    if (seen.insert(target.url).second) targets.push_back(std::move(target));
  }
  return targets;
}

TargetUpdate readTargetUpdate(const Object& object) {
  rejectUnknownFields(object, {"weight", "state", "maxConnections"});
  TargetUpdate update;
  if (present(object, "weight")) update.weight = weightField(object, "weight");
  if (present(object, "maxConnections"))
    update.maxConnections = maxConnectionsField(object, "maxConnections");
  if (present(object, "state")) {
    const Var v = object.get("state");
    if (!v.isString()) throw invalidField("state", "must be a string");
    try {
      update.state = parseServingState(v.extract<std::string>());
    } catch (const InvalidInput& e) {
      throw invalidField("state", e.what());
    }
  }
  if (!update.weight && !update.state && !update.maxConnections)
    throw ApiError(400,
                   "nothing to change: give 'weight' (0-1000) and/or 'state' (active, "
                   "draining or disabled)");
  return update;
}

}  // namespace portico
