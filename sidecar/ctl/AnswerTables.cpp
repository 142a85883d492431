#include "ctl/AnswerTables.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include <set>
#include <sstream>

#include "ctl/TextTable.h"

namespace portico::ctl {

namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

Var parse(const std::string& json) {
  Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(true));
  return parser.parse(json);
}

Object::Ptr parseObject(const std::string& json) {
  auto object = parse(json).extract<Object::Ptr>();
  if (!object) throw std::runtime_error("the answer is not a JSON object");
  return object;
}

Array::Ptr arrayOf(const Object::Ptr& object, const std::string& key) {
  auto array = object ? object->getArray(key) : nullptr;
  return array ? array : Array::Ptr(new Array());
}

std::string compact(const Var& value) {
  if (value.isEmpty()) return "null";
  if (value.isString()) return value.extract<std::string>();
  std::ostringstream out;
  Poco::JSON::Stringifier::condense(value, out);
  return out.str();
}

/// A field as text: strings as they are, other values as JSON, absent or null as "-".
std::string text(const Object::Ptr& object, const std::string& key) {
  if (!object || !object->has(key) || object->isNull(key)) return "-";
  return compact(object->get(key));
}

std::string healthCheckText(const Object::Ptr& route) {
  const auto hc = route->getObject("healthCheck");
  if (!hc) return "-";
  std::string out = text(hc, "type") + " every " + text(hc, "interval");
  if (text(hc, "type") == "http") out += " " + text(hc, "path");
  return out;
}

std::string targetsText(const Array::Ptr& targets) {
  std::size_t healthy = 0;
  for (std::size_t i = 0; i < targets->size(); ++i) {
    const auto t = targets->getObject(static_cast<unsigned>(i));
    if (t && t->optValue<bool>("healthy", false)) ++healthy;
  }
  return std::to_string(targets->size()) + " (" + std::to_string(healthy) + " healthy)";
}

std::string routeOf(const Object::Ptr& row) {
  const std::string host = row->optValue<std::string>("host", "");
  return routeName(host,
                   text(row, "prefixPath") != "-" ? text(row, "prefixPath") : text(row, "route"));
}

std::string fieldChanges(const Object::Ptr& before, const Object::Ptr& after) {
  std::string out;
  std::set<std::string> seen;
  const auto add = [&](const std::string& key) {
    if (!seen.insert(key).second) return;
    const std::string b = text(before, key), a = text(after, key);
    if (b != a) out += (out.empty() ? "" : ", ") + key + " " + b + " -> " + a;
  };
  for (const auto& key : before->getNames()) add(key);
  for (const auto& key : after->getNames()) add(key);
  return out.empty() ? "no change" : out;
}

/// What was added: its plain fields (a new route's policies, which are many and mostly
/// defaults, are left to `-o json`), cut at kSummaryWidth.
std::string fields(const Object::Ptr& object) {
  constexpr std::size_t kSummaryWidth = 72;
  std::string out;
  for (const auto& key : object->getNames()) {
    const Var value = object->get(key);
    if (value.isEmpty() || value.type() == typeid(Object::Ptr) ||
        value.type() == typeid(Array::Ptr))
      continue;
    out += (out.empty() ? "" : ", ") + key + " " + compact(value);
  }
  if (out.size() > kSummaryWidth) out = out.substr(0, kSummaryWidth - 3) + "...";
  return out.empty() ? "-" : out;
}

}  // namespace

std::string summary(const Poco::Dynamic::Var& before, const Poco::Dynamic::Var& after);

std::string routeName(const std::string& host, const std::string& prefix) {
  return host.empty() ? prefix : host + prefix;
}

std::string changeSummary(const std::string& beforeJson, const std::string& afterJson) {
  const auto value = [](const std::string& json) { return json == "null" ? Var() : parse(json); };
  return summary(value(beforeJson), value(afterJson));
}

std::string summary(const Var& before, const Var& after) {
  const bool beforeObject = before.type() == typeid(Object::Ptr);
  const bool afterObject = after.type() == typeid(Object::Ptr);
  if (before.isEmpty() && after.isEmpty()) return "-";
  if (after.isEmpty()) return "removed";
  if (before.isEmpty()) return afterObject ? fields(after.extract<Object::Ptr>()) : compact(after);
  if (beforeObject && afterObject)
    return fieldChanges(before.extract<Object::Ptr>(), after.extract<Object::Ptr>());
  return compact(before) + " -> " + compact(after);
}

std::string routesTable(const std::string& json) {
  TextTable table({"ROUTE", "BALANCER", "HEALTH-CHECK", "TARGETS"});
  const auto routes = arrayOf(parseObject(json), "routes");
  for (std::size_t i = 0; i < routes->size(); ++i) {
    const auto r = routes->getObject(static_cast<unsigned>(i));
    table.add(
        {routeOf(r), text(r, "balancer"), healthCheckText(r), targetsText(arrayOf(r, "targets"))});
  }
  return table.render();
}

std::string targetsTable(const std::string& json) {
  TextTable table({"TARGET", "WEIGHT", "STATE", "HEALTH", "LAST-ERROR"});
  const auto targets = arrayOf(parseObject(json), "targets");
  for (std::size_t i = 0; i < targets->size(); ++i) {
    const auto t = targets->getObject(static_cast<unsigned>(i));
    const std::string health = !t->has("healthy")                    ? "-"
                               : t->optValue<bool>("healthy", false) ? "up"
                                                                     : "down";
    table.add(
        {text(t, "target"), text(t, "weight"), text(t, "state"), health, text(t, "lastError")});
  }
  return table.render();
}

std::string historyTable(const std::string& json, bool header) {
  TextTable table({"REV", "TIME", "ACTOR", "ACTION", "ROUTE", "TARGET", "CHANGE"});
  const auto changes = arrayOf(parseObject(json), "changes");
  for (std::size_t i = 0; i < changes->size(); ++i) {
    const auto c = changes->getObject(static_cast<unsigned>(i));
    std::string actor = text(c, "actor");
    if (text(c, "client") != "-") actor += " " + text(c, "client");
    std::string change = summary(c->get("before"), c->get("after"));
    if (text(c, "revertOf") != "-") change = "(revert to " + text(c, "revertOf") + ") " + change;
    table.add({text(c, "revision"), text(c, "time"), actor, text(c, "action"), routeOf(c),
               text(c, "target"), change});
  }
  std::string out = table.render();
  if (!header) out.erase(0, out.find('\n') + 1);
  return table.rows() == 0 && !header ? "" : out;
}

std::string diffTable(const std::string& json) {
  TextTable table({"ACTION", "ROUTE", "TARGET", "CHANGE"});
  const auto changes = arrayOf(parseObject(json), "changes");
  for (std::size_t i = 0; i < changes->size(); ++i) {
    const auto c = changes->getObject(static_cast<unsigned>(i));
    table.add({text(c, "action"), routeOf(c), text(c, "target"),
               summary(c->get("before"), c->get("after"))});
  }
  const std::size_t n = changes->size();
  if (n == 0) return "no changes\n";
  return table.render() + std::to_string(n) + (n == 1 ? " change\n" : " changes\n");
}

std::string proxiesTable(const std::string& json) {
  TextTable table({"ID", "STATE", "REVISION", "ADDRESSES", "VERSION"});
  const auto proxies = arrayOf(parseObject(json), "proxies");
  for (std::size_t i = 0; i < proxies->size(); ++i) {
    const auto p = proxies->getObject(static_cast<unsigned>(i));
    std::string addresses;
    const auto list = arrayOf(p, "addresses");
    for (std::size_t a = 0; a < list->size(); ++a)
      addresses += (a ? "," : "") + list->getElement<std::string>(static_cast<unsigned>(a));
    table.add({text(p, "id"), text(p, "state"), text(p, "revision"),
               addresses.empty() ? "-" : addresses, text(p, "version")});
  }
  return table.render();
}

}  // namespace portico::ctl
