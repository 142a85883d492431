#include "admin/AdminJson.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include "base/Utf8.h"
#include "store/StoreTime.h"

namespace portico {
namespace {

Poco::Dynamic::Var textOrNull(const std::string& text) {
  if (text.empty()) return Poco::Dynamic::Var();
  return text;
}

}  // namespace

Poco::JSON::Object::Ptr targetJson(const TargetRecord& target) {
  auto o = jsonObject();
  o->set("target", target.url);
  o->set("healthy", target.healthy);
  o->set("lastCheckedAt", textOrNull(target.lastCheckedAt));
  o->set("lastChangedAt", textOrNull(target.lastChangedAt));
  o->set("lastError", textOrNull(target.lastError));
  o->set("weight", target.weight);
  o->set("state", toString(target.state));
  o->set("servingSince", textOrNull(target.servingSince));
  o->set("modifiedAt", textOrNull(target.modifiedAt));
  o->set("checkedBy", textOrNull(target.checkedBy));
  o->set("maxConnections", target.maxConnections);
  return o;
}

Poco::JSON::Object::Ptr routeJson(const RouteRecord& route) {
  auto o = jsonObject();
  o->set("prefixPath", route.prefix);
  o->set("host", route.host);
  o->set("balancer", toString(route.balancer));
  o->set("healthCheck", healthCheckJson(route.health));
  writeRoutePolicies(route.policies, *o);
  auto targets = Poco::makeShared<Poco::JSON::Array>();
  for (const auto& t : route.targets) targets->add(targetJson(t));
  o->set("targets", targets);
  return o;
}

Poco::JSON::Object::Ptr changeJson(const ChangeRecord& change) {
  auto o = jsonObject();
  o->set("revision", change.revision);
  o->set("time", change.time);
  // Here rather than beside "route": a client matching the rest of a row's text keeps matching.
  o->set("host", change.host);
  o->set("actor", change.actor);
  o->set("client", textOrNull(change.client));
  o->set("action", change.action);
  o->set("route", change.route);
  o->set("target", textOrNull(change.target));
  // Written by the store as JSON objects; parsed back (fields in their stored order) so the
  // answer nests them.
  auto parsed = [](const std::string& text) -> Poco::Dynamic::Var {
    if (text.empty()) return Poco::Dynamic::Var();
    try {
      Poco::JSON::Parser parser(Poco::makeShared<Poco::JSON::ParseHandler>(true));
      return parser.parse(text);
    } catch (const Poco::Exception&) {
      // A row someone edited by hand: shown as the text it holds rather than failing the page.
      return toValidUtf8(text);
    }
  };
  o->set("before", parsed(change.before));
  o->set("after", parsed(change.after));
  // Only on a revert's rows: every other row reads as it always has.
  if (change.revertOf >= 0) o->set("revertOf", change.revertOf);
  return o;
}

Poco::JSON::Object::Ptr proxiesJson(const ProxyRoster& roster, const ProxyStateRules& rules) {
  auto list = Poco::makeShared<Poco::JSON::Array>();
  for (const auto& p : roster.proxies) {
    const ProxyState state = proxyState(p, roster, rules);
    if (state == ProxyState::Forgotten) continue;
    auto addresses = Poco::makeShared<Poco::JSON::Array>();
    for (const auto& a : p.addresses) addresses->add(a);
    auto o = jsonObject();
    o->set("id", p.id);
    o->set("addresses", addresses);
    o->set("version", p.version);
    o->set("startedAt", storeTimeText(p.startedAtMs));
    o->set("revision", p.revision);
    o->set("appliedAt", storeTimeText(p.appliedAtMs));
    o->set("lastSeen", storeTimeText(p.lastSeenMs));
    o->set("state", toString(state));
    list->add(o);
  }
  auto answer = jsonObject();
  answer->set("revision", roster.revision);
  answer->set("proxies", list);
  return answer;
}

}  // namespace portico
