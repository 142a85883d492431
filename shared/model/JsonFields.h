#pragma once

#include <Poco/JSON/Object.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "base/Errors.h"

namespace portico {

// Typed reads of JSON object fields for every document a client or the store hands over (route
// bodies, route policies, the stored policy column). Every failure is InvalidInput whose message
// names the field by its full path ("retries.attempts"), which the admin API answers as 400.

/// "invalid field 'FIELD': WHY".
std::string invalidFieldMessage(const std::string& field, const std::string& why);
/// The InvalidInput of that message, for readers of fields of their own (model/RequestPolicy).
InvalidInput invalidFieldError(const std::string& field, const std::string& why);

/// Null counts as absent: `"healthCheck": null` is the same as leaving it out.
bool present(const Poco::JSON::Object& object, const std::string& name);

/// Throws for a field of `object` not in `known`; `where` prefixes its name ("healthCheck.").
void requireKnownFields(const Poco::JSON::Object& object, const std::set<std::string>& known,
                        const std::string& where = "");

std::string stringField(const Poco::JSON::Object& object, const std::string& name,
                        const std::string& field);
bool boolField(const Poco::JSON::Object& object, const std::string& name, const std::string& field);
/// An integer within [min, max].
std::int64_t integerField(const Poco::JSON::Object& object, const std::string& name,
                          const std::string& field, std::int64_t min, std::int64_t max);
/// A duration string with a unit ("5s", "250ms") or a JSON number of nanoseconds (how Go
/// clients marshal time.Duration); at most a week.
std::chrono::milliseconds durationField(const Poco::JSON::Object& object, const std::string& name,
                                        const std::string& field);
/// A JSON object.
Poco::JSON::Object::Ptr objectField(const Poco::JSON::Object& object, const std::string& name,
                                    const std::string& field);
/// An array of strings.
std::vector<std::string> stringListField(const Poco::JSON::Object& object, const std::string& name,
                                         const std::string& field);

/// The body {object: {field: value}}, or {field: value} when `object` is empty: one setting
/// handed to a policy's reader as the API field it stands for (config/Settings).
Poco::JSON::Object::Ptr fieldBody(const std::string& object, const std::string& field,
                                  const Poco::Dynamic::Var& value);

}  // namespace portico
