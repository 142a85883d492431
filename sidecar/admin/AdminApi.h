#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "admin/RevisionWait.h"
#include "model/Model.h"
#include "store/ChangeLog.h"

namespace portico {

class Store;

/// An admin request as the API sees it: HTTP framing, auth and body limits already handled.
struct AdminRequest {
  std::string method;
  std::string path;                                        // decoded, no query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::string body;
  std::string client;                  // the client's address, for the change history
  std::optional<std::string> ifMatch;  // the If-Match header, when given
};

/// The answer: a status and a JSON body (`{"error": ...}` for failures).
struct AdminResponse {
  int status{200};
  std::string body;
  std::string allow;          // the `Allow` header of a 405
  std::int64_t revision{-1};  // the store revision the answer reflects (its ETag); -1: none
  std::string contentType{"application/json"};
  std::vector<std::pair<std::string, std::string>> headers;  // any more
};

/// The admin API (docs/openapi.yaml describes it) over the store, without HTTP serving so it can be
/// tested alone: validates a whole request before writing, maps failures to statuses, tags every
/// answer with the store revision it reflects, hands a write's If-Match to the store (checked
/// inside the write's transaction), and reports every successful write through `changed` (the
/// health checker re-reads the store).
class AdminApi {
 public:
  static constexpr int kMaxChangesPage = 1000;
  /// The largest `limit` of GET /routes and GET /list.
  static constexpr int kMaxListPage = 10000;

  AdminApi(Store& store, std::string prefix, HealthSpec healthDefaults,
           std::function<void()> changed);

  /// Never throws; every failure becomes an error answer.
  AdminResponse handle(const AdminRequest& request);

  /// The endpoint a request path names (one of the API's paths, trailing slash ignored), or
  /// "other": the `endpoint` label of the admin metrics.
  std::string endpointOf(const std::string& path) const;

  /// `answer` tagged with the store's current revision (left untagged if the store cannot say):
  /// for answers given before the store was asked anything.
  AdminResponse current(AdminResponse answer);

  /// The rules of the proxies' states (staleness, proxy.forget_after); set before serving.
  void setProxyRules(const ProxyStateRules& rules) { revisionWait_.setRules(rules); }

  /// The header of every successful write: how many of the proxies that follow the store serve
  /// its revision, "<applied>/<following>", when the answer leaves (after `?wait=`).
  static const char* const kAppliedByHeader;

  /// An error answer: `status` with `{"error": message}` (and `Allow` for a 405).
  static AdminResponse errorAnswer(int status, const std::string& message,
                                   const std::string& allow = "");

 private:
  using Params = std::map<std::string, std::string>;
  using Handler = AdminResponse (AdminApi::*)(const AdminRequest&);
  /// One method on one path (prefix + suffix).
  struct Endpoint {
    std::string_view suffix;
    std::string_view method;
    Handler handler;
  };
  /// The API's endpoints, in the order a 405's Allow header lists their methods.
  static const std::vector<Endpoint>& endpoints();

  AdminResponse dispatch(const AdminRequest& request);
  /// A write endpoint's answer: `?wait=` taken off the request (checked before the write), the
  /// answer held per it and told who serves the write (kAppliedByHeader).
  AdminResponse write(Handler handler, const AdminRequest& request);
  /// Adds kAppliedByHeader to a successful answer for its revision, after waiting up to `wait`.
  void tellAppliedBy(AdminResponse& answer, std::int64_t revision, std::chrono::milliseconds wait);
  static Params queryParams(const AdminRequest& request, const std::set<std::string>& known);
  static std::string requiredParam(const Params& params, const std::string& name);
  /// The route `prefixPath` and the optional `host` name ("" when absent: the any-host route).
  static RouteKey routeParam(const Params& params);
  /// `limit` (1 to kMaxListPage), or 0 when absent.
  static std::size_t pageLimit(const Params& params);

  AdminResponse listRoute(const AdminRequest& request);
  AdminResponse getTarget(const AdminRequest& request);
  AdminResponse addTargets(const AdminRequest& request);
  AdminResponse removeTargets(const AdminRequest& request);
  AdminResponse listRoutes(const AdminRequest& request);
  AdminResponse createRoute(const AdminRequest& request);
  AdminResponse deleteRoute(const AdminRequest& request);
  AdminResponse patchRoute(const AdminRequest& request);
  AdminResponse patchTarget(const AdminRequest& request);
  AdminResponse listChanges(const AdminRequest& request);
  AdminResponse listProxies(const AdminRequest& request);
  AdminResponse getConfig(const AdminRequest& request);
  AdminResponse putConfig(const AdminRequest& request);
  AdminResponse revert(const AdminRequest& request);
  /// Makes the store equal to `desired` (Store::applyConfig) and answers the changes made;
  /// `what` heads the log line.
  AdminResponse applyConfig(const std::vector<RouteSpec>& desired, const WriteContext& who,
                            const std::string& what);
  static WriteContext writer(const AdminRequest& request);
  void written();

  Store& store_;
  std::string prefix_;
  HealthSpec healthDefaults_;
  std::function<void()> changed_;
  RevisionWait revisionWait_;
  // Serialises read-modify-write requests (an add merges its healthCheck over the stored one).
  std::mutex writeMutex_;
  std::atomic<bool> storeDown_{false};  // logged once per outage, not once per request
};

}  // namespace portico
