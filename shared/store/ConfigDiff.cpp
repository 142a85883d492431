#include "store/ConfigDiff.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "model/ModelJson.h"
#include "store/ChangeLog.h"

namespace portico {
namespace {

/// The configuration document's order: host, then prefix.
struct HostFirst {
  bool operator()(const RouteKey& a, const RouteKey& b) const {
    return std::tie(a.host, a.prefix) < std::tie(b.host, b.prefix);
  }
};

Poco::JSON::Object::Ptr one(const std::string& name, const Poco::Dynamic::Var& value) {
  auto o = jsonObject();
  o->set(name, value);
  return o;
}

/// A target as a target.add row's `after` shows it: stored as desired, healthy until checked.
TargetRecord fresh(const TargetSpec& spec) {
  TargetRecord t;
  t.url = spec.url;
  t.weight = spec.weight;
  t.state = spec.state;
  t.maxConnections = spec.maxConnections;
  return t;
}

RouteSpec settingsOf(const RouteSpec& spec) {
  RouteSpec s = spec;
  s.targets.clear();
  return s;
}

class Differ {
 public:
  explicit Differ(std::vector<ConfigChange>& out) : out_(out) {}

  void created(const RouteSpec& d) {
    auto& c = add("route.create", d.key(), "", nullptr,
                  ChangeLog::routeJson(d.balancer, d.health, d.policies));
    c.routeSpec = settingsOf(d);
    for (const auto& t : sortedTargets(d)) addTarget(d.key(), 0, t);
  }

  void deleted(const RouteRecord& r) {
    for (const auto& t : sortedTargets(r)) removeTarget(r.key(), r.id, t);
    add("route.delete", r.key(), "", ChangeLog::routeJson(r.balancer, r.health, r.policies),
        nullptr)
        .routeId = r.id;
  }

  void changed(const RouteSpec& d, const RouteRecord& r) {
    RouteRecord after = r;
    after.balancer = d.balancer;
    after.health = d.health;
    after.policies = d.policies;
    auto [was, is] = ChangeLog::routeDifference(r, after);
    if (is->size() > 0) {
      auto& c = add("route.update", r.key(), "", was, is);
      c.routeId = r.id;
      c.routeSpec = settingsOf(d);
    }
    std::map<std::string, const TargetSpec*> wanted;
    for (const auto& t : d.targets) wanted[t.url] = &t;
    std::map<std::string, const TargetRecord*> stored;
    for (const auto& t : r.targets) stored[t.url] = &t;
    auto w = wanted.begin();
    auto s = stored.begin();
    while (w != wanted.end() || s != stored.end()) {
      if (s == stored.end() || (w != wanted.end() && w->first < s->first)) {
        addTarget(r.key(), r.id, *(w++)->second);
      } else if (w == wanted.end() || s->first < w->first) {
        removeTarget(r.key(), r.id, *(s++)->second);
      } else {
        changeTarget(r.key(), *(w++)->second, *(s++)->second);
      }
    }
  }

 private:
  ConfigChange& add(const std::string& action, const RouteKey& route, const std::string& target,
                    Poco::JSON::Object::Ptr before, Poco::JSON::Object::Ptr after) {
    ConfigChange c;
    c.action = action;
    c.route = route;
    c.target = target;
    c.before = std::move(before);
    c.after = std::move(after);
    out_.push_back(std::move(c));
    return out_.back();
  }

  void addTarget(const RouteKey& route, std::int64_t routeId, const TargetSpec& t) {
    auto& c = add("target.add", route, t.url, nullptr, ChangeLog::targetJson(fresh(t)));
    c.routeId = routeId;
    c.targetSpec = t;
  }

  void removeTarget(const RouteKey& route, std::int64_t routeId, const TargetRecord& t) {
    auto& c = add("target.remove", route, t.url, ChangeLog::targetJson(t), nullptr);
    c.routeId = routeId;
    c.targetId = t.id;
  }

  void changeTarget(const RouteKey& route, const TargetSpec& d, const TargetRecord& r) {
    auto target = [&](ConfigChange& c) {
      c.targetId = r.id;
      c.targetSpec = d;
    };
    if (d.weight != r.weight)
      target(add("target.weight", route, r.url, one("weight", r.weight), one("weight", d.weight)));
    if (d.maxConnections != r.maxConnections)
      target(add("target.max_connections", route, r.url, one("maxConnections", r.maxConnections),
                 one("maxConnections", d.maxConnections)));
    if (d.state != r.state)
      target(add("target.state", route, r.url, one("state", toString(r.state)),
                 one("state", toString(d.state))));
  }

  template <typename T>
  static std::vector<T> sortedBy(std::vector<T> items) {
    std::sort(items.begin(), items.end(), [](const T& a, const T& b) { return a.url < b.url; });
    return items;
  }
  static std::vector<TargetSpec> sortedTargets(const RouteSpec& d) { return sortedBy(d.targets); }
  static std::vector<TargetRecord> sortedTargets(const RouteRecord& r) {
    return sortedBy(r.targets);
  }

  std::vector<ConfigChange>& out_;
};

}  // namespace

std::vector<ConfigChange> ConfigDiff::between(const std::vector<RouteSpec>& desired,
                                              const std::vector<RouteRecord>& current) {
  std::map<RouteKey, std::pair<const RouteSpec*, const RouteRecord*>, HostFirst> routes;
  for (const auto& d : desired) routes[d.key()].first = &d;
  for (const auto& r : current) routes[r.key()].second = &r;
  std::vector<ConfigChange> changes;
  Differ differ(changes);
  for (const auto& [key, pair] : routes) {
    const auto [d, r] = pair;
    if (!r) {
      differ.created(*d);
    } else if (!d) {
      differ.deleted(*r);
    } else {
      differ.changed(*d, *r);
    }
  }
  return changes;
}

}  // namespace portico
