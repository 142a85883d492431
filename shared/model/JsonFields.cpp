#include "model/JsonFields.h"

#include <Poco/JSON/Array.h>

#include <cmath>

#include "base/Duration.h"
#include "base/Errors.h"
#include "base/Utf8.h"

namespace portico {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Object;

InvalidInput invalid(const std::string& field, const std::string& why) {
  return InvalidInput(invalidFieldMessage(field, why));
}

// A week, as parseDuration allows; also keeps nanosecond numbers far from overflow.
constexpr double kMaxDurationMs = 7 * 24 * 3600000.0;

}  // namespace

std::string invalidFieldMessage(const std::string& field, const std::string& why) {
  return "invalid field '" + field + "': " + why;
}

InvalidInput invalidFieldError(const std::string& field, const std::string& why) {
  return InvalidInput(invalidFieldMessage(field, why));
}

bool present(const Object& object, const std::string& name) {
  return object.has(name) && !object.isNull(name);
}

void requireKnownFields(const Object& object, const std::set<std::string>& known,
                        const std::string& where) {
  for (const auto& [name, value] : object) {
    if (!known.count(name))
      throw InvalidInput("unknown field '" + where + printable(name, 64) + "'");
  }
}

std::string stringField(const Object& object, const std::string& name, const std::string& field) {
  const Var v = object.get(name);
  if (!v.isString()) throw invalid(field, "must be a string");
  return v.extract<std::string>();
}

bool boolField(const Object& object, const std::string& name, const std::string& field) {
  const Var v = object.get(name);
  if (!v.isBoolean()) throw invalid(field, "must be true or false");
  return v.extract<bool>();
}

std::int64_t integerField(const Object& object, const std::string& name, const std::string& field,
                          std::int64_t min, std::int64_t max) {
  const Var v = object.get(name);
  if (v.isBoolean() || !v.isInteger()) throw invalid(field, "must be an integer");
  const double n = v.convert<double>();
  if (n < static_cast<double>(min) || n > static_cast<double>(max))
    throw invalid(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  return static_cast<std::int64_t>(n);
}

std::chrono::milliseconds durationField(const Object& object, const std::string& name,
                                        const std::string& field) {
  const Var v = object.get(name);
  if (v.isString()) {
    try {
      return parseDuration(v.extract<std::string>());
    } catch (const InvalidInput& e) {
      throw invalid(field, e.what());
    }
  }
  if (v.isNumeric() && !v.isBoolean()) {
    const double ms = v.convert<double>() / 1e6;
    if (!std::isfinite(ms) || ms < 0) throw invalid(field, "must not be negative");
    if (ms > kMaxDurationMs) throw invalid(field, "longer than a week");
    return std::chrono::milliseconds(std::llround(ms));
  }
  throw invalid(field, "must be a duration string like \"5s\" or a number of nanoseconds");
}

Object::Ptr objectField(const Object& object, const std::string& name, const std::string& field) {
  auto inner = object.getObject(name);
  if (!inner) throw invalid(field, "must be an object");
  return inner;
}

std::vector<std::string> stringListField(const Object& object, const std::string& name,
                                         const std::string& field) {
  const auto array = object.getArray(name);
  if (!array) throw invalid(field, "must be an array of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const Var v = array->get(static_cast<unsigned>(i));
    if (!v.isString()) throw invalid(field + "[" + std::to_string(i) + "]", "must be a string");
    out.push_back(v.extract<std::string>());
  }
  return out;
}

Object::Ptr fieldBody(const std::string& object, const std::string& field, const Var& value) {
  Object::Ptr holder = new Object;
  holder->set(field, value);
  if (object.empty()) return holder;
  Object::Ptr body = new Object;
  body->set(object, holder);
  return body;
}

}  // namespace portico
