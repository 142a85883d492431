#pragma once

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/Model.h"
#include "store/IfMatch.h"

namespace portico {

/// Who makes a write (the history's actor) and on what condition.
struct WriteContext {
  std::string actor{"api"};   // "api", "config" or "health"
  std::string client;         // the API client's address
  IfMatch ifMatch;            // the revision the writer expects the store to be at
  std::int64_t revertOf{-1};  // a revert's: the revision it goes back to (its rows' revertOf)

  static WriteContext api(std::string client, IfMatch ifMatch = {}) {
    return WriteContext{"api", std::move(client), std::move(ifMatch), -1};
  }
  static WriteContext config() { return WriteContext{"config", "", {}, -1}; }
  static WriteContext health() { return WriteContext{"health", "", {}, -1}; }
};

/// The history rows of one write transaction (the `changes` table): collected while the
/// transaction changes routes and targets, then written with the revision the change commits
/// as, so a change and its history row commit or roll back together.
class ChangeLog {
 public:
  ChangeLog(const WriteContext& who, std::string now) : who_(who), now_(std::move(now)) {}

  /// One row; `before`/`after` may be null (nothing before an add, nothing after a removal).
  void add(const std::string& action, const RouteKey& route, const std::string& target,
           const Poco::JSON::Object::Ptr& before, const Poco::JSON::Object::Ptr& after);
  bool empty() const { return rows_.empty(); }

  struct Row {
    std::string action, route, host, target, before, after;  // empty before/after/target: none
  };
  /// The rows to insert, in order.
  const std::vector<Row>& rows() const { return rows_; }
  const WriteContext& who() const { return who_; }
  const std::string& now() const { return now_; }

  // The JSON the rows hold for a target and a route.
  static Poco::JSON::Object::Ptr targetJson(const TargetRecord& target);
  static Poco::JSON::Object::Ptr routeJson(BalancerKind balancer, const HealthSpec& health,
                                           const RoutePolicies& policies);
  /// The route fields (routeJson's) whose values differ between `before` and `after`, as they
  /// were and as they are: a route.update row's before/after. Both empty when nothing differs.
  static std::pair<Poco::JSON::Object::Ptr, Poco::JSON::Object::Ptr> routeDifference(
      const RouteRecord& before, const RouteRecord& after);

 private:
  WriteContext who_;
  std::string now_;
  std::vector<Row> rows_;
};

}  // namespace portico
