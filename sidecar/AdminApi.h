#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "Model.h"

namespace portico {

class Store;

/// An admin request as the API sees it: HTTP framing, auth and body limits already handled.
struct AdminRequest {
  std::string method;
  std::string path;                                        // decoded, no query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::string body;
};

/// The answer: a status and a JSON body (`{"error": ...}` for failures).
struct AdminResponse {
  int status{200};
  std::string body;
  std::string allow;  // the `Allow` header of a 405
};

/// The admin API (docs/openapi.yaml describes it) over the store, without HTTP serving so it can be
/// tested alone: validates a whole request before writing, maps failures to statuses, and reports
/// every successful write through `changed` (the health checker re-reads the store).
class AdminApi {
 public:
  AdminApi(Store& store, std::string prefix, HealthSpec healthDefaults,
           std::function<void()> changed);

  /// Never throws; every failure becomes an error answer.
  AdminResponse handle(const AdminRequest& request);

  /// The endpoint a request path names (one of the API's paths, trailing slash ignored), or
  /// "other": the `endpoint` label of the admin metrics. Extend it with dispatch().
  std::string endpointOf(const std::string& path) const;

  /// An error answer: `status` with `{"error": message}` (and `Allow` for a 405).
  static AdminResponse errorAnswer(int status, const std::string& message,
                                   const std::string& allow = "");

 private:
  using Params = std::map<std::string, std::string>;

  AdminResponse dispatch(const AdminRequest& request);
  static Params queryParams(const AdminRequest& request, const std::set<std::string>& known);
  static std::string requiredParam(const Params& params, const std::string& name);

  AdminResponse listRoute(const AdminRequest& request);
  AdminResponse getTarget(const AdminRequest& request);
  AdminResponse addTargets(const AdminRequest& request);
  AdminResponse removeTargets(const AdminRequest& request);
  AdminResponse listRoutes(const AdminRequest& request);
  AdminResponse createRoute(const AdminRequest& request);
  AdminResponse deleteRoute(const AdminRequest& request);
  void written();

  Store& store_;
  std::string prefix_;
  HealthSpec healthDefaults_;
  std::function<void()> changed_;
  // Serialises read-modify-write requests (an add merges its healthCheck over the stored one).
  std::mutex writeMutex_;
};

}  // namespace portico
