#include "admin/AdminApi.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>

#include <algorithm>
#include <cassert>
#include <limits>

#include "admin/AdminInput.h"
#include "admin/AdminJson.h"
#include "admin/ApiError.h"
#include "admin/ConfigDocument.h"
#include "admin/ConfigRewind.h"
#include "admin/TargetInput.h"
#include "base/Duration.h"
#include "base/Errors.h"
#include "base/Log.h"
#include "base/Utf8.h"
#include "model/JsonFields.h"
#include "model/ModelJson.h"
#include "store/Store.h"

namespace portico {
namespace {

AdminResponse jsonAnswer(int status, const Poco::JSON::Object::Ptr& object,
                         std::int64_t revision = -1) {
  AdminResponse r;
  r.status = status;
  r.body = toJsonText(object);
  r.revision = revision;
  return r;
}

AdminResponse messageAnswer(const std::string& message, std::int64_t revision) {
  auto o = jsonObject();
  o->set("message", message);
  return jsonAnswer(200, o, revision);
}

std::vector<std::string> urlsOf(const std::vector<TargetSpec>& targets) {
  std::vector<std::string> urls;
  urls.reserve(targets.size());
  for (const auto& t : targets)
    urls.push_back(t.weight == kDefaultWeight ? t.url
                                              : t.url + " weight " + std::to_string(t.weight));
  return urls;
}

/// A query parameter that must be a whole number in [min, max].
std::int64_t integerParam(const std::string& name, const std::string& value, std::int64_t min,
                          std::int64_t max) {
  std::int64_t n = 0;
  if (value.empty() || value.size() > 18 ||
      value.find_first_not_of("0123456789") != std::string::npos)
    throw ApiError(400, "invalid query parameter '" + name + "': '" + printable(value, 64) +
                            "' is not a whole number");
  n = std::stoll(value);
  if (n < min || n > max)
    throw ApiError(400, "invalid query parameter '" + name + "': " + value + " is out of range " +
                            std::to_string(min) + "-" + std::to_string(max));
  return n;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "none" : out;
}

std::string describe(const HealthSpec& h) {
  return "interval " + formatDuration(h.interval) + ", timeout " + formatDuration(h.timeout) +
         ", " + toString(h.type) + (h.type == ProbeType::Http ? " " + h.path : "") + ", fall " +
         std::to_string(h.fall) + ", rise " + std::to_string(h.rise) +
         (h.slowStart.count() > 0 ? ", slow start " + formatDuration(h.slowStart) : "");
}

std::string plural(int n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

/// What an add or a remove did: "added 2 targets to /a/", and the targets it left alone.
struct TargetsChange {
  std::string done;  // "added 2 targets to /a/"
  int untouched;     // already present / not present
  std::string untouchedAs;

  /// The log line: what was done, the targets named, how many were left alone.
  std::string logLine(const std::string& targets) const {
    return done + " (" + targets +
           (untouched ? "; " + std::to_string(untouched) + " " + untouchedAs : "") + ")";
  }
  /// The answer's {"message", <countField>}.
  Poco::JSON::Object::Ptr answer(const std::string& countField, int count) const {
    auto o = jsonObject();
    o->set("message",
           done + (untouched ? " (" + std::to_string(untouched) + " " + untouchedAs + ")" : ""));
    o->set(countField, count);
    return o;
  }
};

/// `?wait=`: a duration of at most RevisionWait::kMaxWait.
std::chrono::milliseconds waitParam(const std::string& value) {
  std::chrono::milliseconds wait{0};
  try {
    wait = parseDuration(value);
  } catch (const InvalidInput& e) {
    throw ApiError(400, "invalid query parameter 'wait': " + std::string(e.what()));
  }
  if (wait > RevisionWait::kMaxWait)
    throw ApiError(400, "invalid query parameter 'wait': " + printable(value, 64) +
                            " is longer than " + formatDuration(RevisionWait::kMaxWait));
  return wait;
}

ApiError routeNotFound(const RouteKey& key) {
  return ApiError(404, "route " + key.text() + " not found");
}

/// `?dryRun=`: true or false (absent: false).
bool dryRunParam(const std::map<std::string, std::string>& params) {
  const auto it = params.find("dryRun");
  if (it == params.end() || it->second == "false") return false;
  if (it->second == "true") return true;
  throw ApiError(400, "invalid query parameter 'dryRun': '" + printable(it->second, 64) +
                          "' is neither true nor false");
}

/// The If-Match of a write that is not made (a dry run) or is made on a state read before it
/// (a revert), checked as the store checks its writes'.
void requireMatch(const IfMatch& ifMatch, std::int64_t revision) {
  if (!ifMatch.matches(revision))
    throw PreconditionFailed("the store is at revision " + std::to_string(revision) +
                                 ", not at the one If-Match names (" + ifMatch.text() +
                                 "); nothing was changed: read it again and retry",
                             revision);
}

}  // namespace

AdminApi::AdminApi(Store& store, std::string prefix, HealthSpec healthDefaults,
                   std::function<void()> changed)
    : store_(store),
      prefix_(std::move(prefix)),
      healthDefaults_(std::move(healthDefaults)),
      changed_(std::move(changed)),
      revisionWait_(store) {
  // Paths are matched as prefix_ + suffix: a trailing slash would match none of them.
  assert(prefix_.size() > 1 && prefix_.front() == '/' && prefix_.back() != '/');
}

AdminResponse AdminApi::errorAnswer(int status, const std::string& message,
                                    const std::string& allow) {
  auto o = jsonObject();
  o->set("error", printable(message));  // quotes what the client sent: escaped, valid UTF-8
  AdminResponse r = jsonAnswer(status, o);
  r.allow = allow;
  return r;
}

AdminResponse AdminApi::handle(const AdminRequest& request) {
  try {
    auto answer = dispatch(request);
    if (storeDown_.exchange(false)) logLine("admin: the store is reachable again");
    return answer;
  } catch (const ApiError& e) {
    return current(errorAnswer(e.status(), e.what(), e.allow()));
  } catch (const PreconditionFailed& e) {
    AdminResponse r = errorAnswer(412, e.what());
    r.revision = e.revision();
    return r;
  } catch (const InvalidInput& e) {
    return current(errorAnswer(400, e.what()));
  } catch (const NotFound& e) {
    return current(errorAnswer(404, e.what()));
  } catch (const Conflict& e) {
    return current(errorAnswer(409, e.what()));
  } catch (const StoreUnavailable& e) {
    // No revision header: reading it would fail the same way.
    if (!storeDown_.exchange(true))
      logWarn(std::string("admin: store unavailable (answering 503 until it is back): ") +
              e.what());
    return errorAnswer(503, std::string("store unavailable: ") + e.what());
  } catch (const StoreBusy& e) {
    logWarn(std::string("admin: store busy on ") + request.method + " " + request.path + ": " +
            e.what());
    return errorAnswer(503, std::string("store busy, try again: ") + e.what());
  } catch (const StoreError& e) {
    logError(std::string("admin: store error on ") + request.method + " " + request.path + ": " +
             e.what());
    return errorAnswer(500, std::string("store error: ") + e.what());
  } catch (const Poco::Exception& e) {
    logError("admin: internal error on " + request.method + " " + request.path + ": " +
             e.displayText());
    return errorAnswer(500, "internal error: " + e.displayText());
  } catch (const std::exception& e) {
    logError(std::string("admin: internal error on ") + request.method + " " + request.path + ": " +
             e.what());
    return errorAnswer(500, std::string("internal error: ") + e.what());
  }
}

const char* const AdminApi::kAppliedByHeader = "Portico-Applied-By";

const std::vector<AdminApi::Endpoint>& AdminApi::endpoints() {
  // Each path with the methods it answers; GET answers HEAD too. Dispatch, the 405's Allow
  // header and the metrics' endpoint label all come from here.
  static const std::vector<Endpoint> table{
      {"", "GET", &AdminApi::getTarget},
      {"", "PATCH", &AdminApi::patchTarget},
      {"/changes", "GET", &AdminApi::listChanges},
      {"/list", "GET", &AdminApi::listRoute},
      {"/add", "POST", &AdminApi::addTargets},
      {"/remove", "POST", &AdminApi::removeTargets},
      {"/routes", "GET", &AdminApi::listRoutes},
      {"/routes", "POST", &AdminApi::createRoute},
      {"/routes", "DELETE", &AdminApi::deleteRoute},
      {"/routes", "PATCH", &AdminApi::patchRoute},
      {"/proxies", "GET", &AdminApi::listProxies},
      {"/config", "GET", &AdminApi::getConfig},
      {"/config", "PUT", &AdminApi::putConfig},
      {"/revert", "POST", &AdminApi::revert},
  };
  return table;
}

std::string AdminApi::endpointOf(const std::string& path) const {
  std::string p = path;
  if (p.size() > 1 && p.back() == '/') p.pop_back();
  for (const auto& e : endpoints())
    if (p == prefix_ + std::string(e.suffix)) return p;
  return "other";
}

AdminResponse AdminApi::current(AdminResponse answer) {
  // An error answer reflects the store as it is now, so a client can retry from its ETag.
  try {
    answer.revision = store_.revision();
  } catch (const std::exception&) {
    answer.revision = -1;
  }
  return answer;
}

WriteContext AdminApi::writer(const AdminRequest& request) {
  IfMatch ifMatch;
  if (request.ifMatch) {
    try {
      ifMatch = IfMatch::parse(*request.ifMatch);
    } catch (const InvalidInput& e) {
      throw ApiError(400, e.what());
    }
  }
  return WriteContext::api(request.client, std::move(ifMatch));
}

AdminResponse AdminApi::dispatch(const AdminRequest& request) {
  std::string path = request.path;
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::string& m = request.method;
  const std::string_view asked = m == "HEAD" ? std::string_view("GET") : std::string_view(m);
  std::string allow;
  for (const auto& e : endpoints()) {
    if (path != prefix_ + std::string(e.suffix)) continue;
    if (e.method == asked)
      return asked == "GET" ? (this->*e.handler)(request) : write(e.handler, request);
    allow += (allow.empty() ? "" : ", ") + std::string(e.method);
    if (e.method == "GET") allow += ", HEAD";
  }
  if (allow.empty()) throw ApiError(404, "no such path: " + request.path);
  throw ApiError(405, "method " + m + " not allowed on " + path + " (allowed: " + allow + ")",
                 allow);
}

AdminApi::Params AdminApi::queryParams(const AdminRequest& request,
                                       const std::set<std::string>& known) {
  Params params;
  for (const auto& [name, value] : request.query) {
    if (!known.count(name))
      throw ApiError(400, "unknown query parameter '" + printable(name, 64) + "'");
    if (!params.emplace(name, value).second)
      throw ApiError(400, "query parameter '" + name + "' given more than once");
  }
  return params;
}

RouteKey AdminApi::routeParam(const Params& params) {
  RouteKey key;
  key.prefix = normalizePrefixValue(requiredParam(params, "prefixPath"), "prefixPath");
  if (auto it = params.find("host"); it != params.end())
    key.host = normalizeHostValue(it->second, "host");
  return key;
}

std::string AdminApi::requiredParam(const Params& params, const std::string& name) {
  const auto it = params.find(name);
  if (it == params.end() || it->second.empty())
    throw ApiError(400, "missing query parameter '" + name + "'");
  return it->second;
}

AdminResponse AdminApi::write(Handler handler, const AdminRequest& request) {
  std::chrono::milliseconds wait{0};
  int waits = 0;
  for (const auto& [name, value] : request.query) {
    if (name != "wait") continue;
    if (++waits > 1) throw ApiError(400, "query parameter 'wait' given more than once");
    wait = waitParam(value);
  }
  AdminResponse answer;
  if (waits == 0) {
    answer = (this->*handler)(request);
  } else {
    AdminRequest rest = request;
    rest.query.erase(std::remove_if(rest.query.begin(), rest.query.end(),
                                    [](const auto& p) { return p.first == "wait"; }),
                     rest.query.end());
    answer = (this->*handler)(rest);
  }
  if (answer.status < 300 && answer.revision >= 0) tellAppliedBy(answer, answer.revision, wait);
  return answer;
}

void AdminApi::tellAppliedBy(AdminResponse& answer, std::int64_t revision,
                             std::chrono::milliseconds wait) {
  // The write is committed whatever happens here: a store that cannot say who serves it costs
  // the header, not the answer.
  try {
    answer.headers.emplace_back(kAppliedByHeader, revisionWait_.await(revision, wait).text());
  } catch (const std::exception& e) {
    logWarn(std::string("admin: cannot read the proxies table: ") + e.what());
  }
}

void AdminApi::written() {
  if (changed_) changed_();
}

AdminResponse AdminApi::listRoute(const AdminRequest& request) {
  const auto params = queryParams(request, {"prefixPath", "limit", "after", "host"});
  const RouteKey key = routeParam(params);
  const auto limit = pageLimit(params);
  std::string after;
  if (auto it = params.find("after"); it != params.end())
    after = canonicalTarget(it->second, "after");
  std::int64_t revision = -1;
  auto route = store_.findRoute(key, &revision);
  if (!route) throw routeNotFound(key);
  if (limit == 0 && after.empty()) return jsonAnswer(200, routeJson(*route), revision);
  // A page of the targets in stored order: those after `after`, at most `limit`.
  auto& targets = route->targets;
  auto from = targets.begin();
  if (!after.empty()) {
    from = std::find_if(targets.begin(), targets.end(),
                        [&](const TargetRecord& t) { return t.url == after; });
    if (from == targets.end())
      throw ApiError(400, "invalid query parameter 'after': " + after +
                              " is not a target of route " + key.text());
    ++from;
  }
  const std::size_t left = static_cast<std::size_t>(targets.end() - from);
  const bool more = limit > 0 && left > limit;
  std::vector<TargetRecord> page(from, more ? from + static_cast<long>(limit) : targets.end());
  targets = std::move(page);
  auto answer = routeJson(*route);
  if (more) answer->set("next", route->targets.back().url);
  return jsonAnswer(200, answer, revision);
}

std::size_t AdminApi::pageLimit(const Params& params) {
  auto it = params.find("limit");
  if (it == params.end()) return 0;
  return static_cast<std::size_t>(integerParam("limit", it->second, 1, kMaxListPage));
}

AdminResponse AdminApi::getTarget(const AdminRequest& request) {
  const auto params = queryParams(request, {"prefixPath", "target", "host"});
  const RouteKey key = routeParam(params);
  const auto url = canonicalTarget(requiredParam(params, "target"), "target");
  std::int64_t revision = -1;
  const auto route = store_.findRoute(key, &revision);
  if (!route) throw routeNotFound(key);
  for (const auto& t : route->targets)
    if (t.url == url) return jsonAnswer(200, targetJson(t), revision);
  throw ApiError(404, "target " + url + " not found on route " + key.text());
}

AdminResponse AdminApi::patchTarget(const AdminRequest& request) {
  const auto params = queryParams(request, {"prefixPath", "target", "host"});
  const RouteKey key = routeParam(params);
  const auto url = canonicalTarget(requiredParam(params, "target"), "target");
  const auto who = writer(request);
  const auto update = readTargetUpdate(*parseJsonObject(request.body));

  std::lock_guard<std::mutex> lock(writeMutex_);
  const auto before = store_.findRoute(key);
  if (!before) throw routeNotFound(key);
  std::int64_t revision = -1;
  TargetRecord target;
  try {
    target = store_.updateTarget(key, url, update, who, &revision);
  } catch (const NotFound&) {
    throw ApiError(404, "target " + url + " not found on route " + key.text());
  }
  written();
  std::vector<std::string> changes;
  for (const auto& t : before->targets) {
    if (t.url != url) continue;
    if (t.weight != target.weight)
      changes.push_back("weight " + std::to_string(t.weight) + " -> " +
                        std::to_string(target.weight));
    if (t.state != target.state)
      changes.push_back("state " + toString(t.state) + " -> " + toString(target.state));
    if (t.maxConnections != target.maxConnections)
      changes.push_back("maxConnections " + std::to_string(t.maxConnections) + " -> " +
                        std::to_string(target.maxConnections));
  }
  logLine("target " + url + " of " + key.text() + ": " +
          (changes.empty() ? std::string("unchanged") : joined(changes)) + " (by " +
          request.client + ")");
  return jsonAnswer(200, targetJson(target), revision);
}

AdminResponse AdminApi::listChanges(const AdminRequest& request) {
  const auto params = queryParams(request, {"since", "limit", "route", "host", "target"});
  ChangeQuery query;
  if (auto it = params.find("since"); it != params.end())
    query.since = integerParam("since", it->second, 0, std::numeric_limits<std::int64_t>::max());
  if (auto it = params.find("limit"); it != params.end())
    query.limit = static_cast<int>(integerParam("limit", it->second, 1, kMaxChangesPage));
  if (auto it = params.find("route"); it != params.end())
    query.route = normalizePrefixValue(it->second, "route");
  if (auto it = params.find("host"); it != params.end()) {
    if (query.route.empty()) throw ApiError(400, "query parameter 'host' needs 'route'");
    query.host = normalizeHostValue(it->second, "host");
  }
  if (auto it = params.find("target"); it != params.end())
    query.target = canonicalTarget(it->second, "target");
  std::int64_t revision = -1;
  const auto page = store_.changes(query, &revision);
  auto changes = Poco::makeShared<Poco::JSON::Array>();
  for (const auto& c : page.changes) changes->add(changeJson(c));
  auto answer = jsonObject();
  answer->set("changes", changes);
  answer->set("nextSince", page.nextSince);
  return jsonAnswer(200, answer, revision);
}

AdminResponse AdminApi::listProxies(const AdminRequest& request) {
  const auto params = queryParams(request, {"revision", "wait"});
  std::optional<std::int64_t> revision;
  std::chrono::milliseconds wait{0};
  if (auto it = params.find("revision"); it != params.end())
    revision = integerParam("revision", it->second, 0, std::numeric_limits<std::int64_t>::max());
  if (auto it = params.find("wait"); it != params.end()) {
    wait = waitParam(it->second);
    if (!revision) revision = store_.revision();  // the store's as it is now
  }
  AdminResponse waited;
  if (revision) tellAppliedBy(waited, *revision, wait);
  const auto roster = store_.proxies();
  auto answer = jsonAnswer(200, proxiesJson(roster, revisionWait_.rules()), roster.revision);
  answer.headers = std::move(waited.headers);
  return answer;
}

AdminResponse AdminApi::addTargets(const AdminRequest& request) {
  const auto body = parseJsonObject(request.body);
  rejectUnknownFields(*body, {"prefixPath", "host", "targets", "healthCheck"});
  const RouteKey key = readRouteKeyField(*body);
  const auto targets = readTargetSpecsField(*body, true);
  // Checked against the defaults first so a bad healthCheck is a 400 whether or not the route
  // exists; the checks are per field, so the merge below cannot fail where this passed.
  readHealthCheckField(*body, healthDefaults_);
  const auto who = writer(request);

  std::lock_guard<std::mutex> lock(writeMutex_);
  const auto route = store_.findRoute(key);
  if (!route) throw routeNotFound(key);
  const auto health = readHealthCheckField(*body, route->health);
  std::int64_t revision = -1;
  const int added = store_.addTargets(key, targets, health, who, &revision);
  written();
  const TargetsChange change{"added " + plural(added, "target") + " to " + key.text(),
                             static_cast<int>(targets.size()) - added, "already present"};
  std::string line = change.logLine(joined(urlsOf(targets)));
  if (health && !(*health == route->health)) line += "; health check now " + describe(*health);
  logLine(line);
  return jsonAnswer(200, change.answer("addedCount", added), revision);
}

AdminResponse AdminApi::removeTargets(const AdminRequest& request) {
  const auto body = parseJsonObject(request.body);
  rejectUnknownFields(*body, {"prefixPath", "host", "targets"});
  const RouteKey key = readRouteKeyField(*body);
  const auto urls = readTargetsField(*body, true);
  const auto who = writer(request);

  std::lock_guard<std::mutex> lock(writeMutex_);
  int removed = 0;
  std::int64_t revision = -1;
  try {
    removed = store_.removeTargets(key, urls, who, &revision);
  } catch (const NotFound&) {
    throw routeNotFound(key);
  }
  written();
  const TargetsChange change{"removed " + plural(removed, "target") + " from " + key.text(),
                             static_cast<int>(urls.size()) - removed, "not present"};
  logLine(change.logLine(joined(urls)));
  return jsonAnswer(200, change.answer("removedCount", removed), revision);
}

AdminResponse AdminApi::listRoutes(const AdminRequest& request) {
  const auto params = queryParams(request, {"limit", "after", "afterHost", "host"});
  const auto limit = pageLimit(params);
  RouteKey after;
  if (auto it = params.find("after"); it != params.end())
    after.prefix = normalizePrefixValue(it->second, "after");
  if (auto it = params.find("afterHost"); it != params.end())
    after.host = normalizeHostValue(it->second, "afterHost");
  std::optional<std::string> host;
  if (auto it = params.find("host"); it != params.end())
    host = normalizeHostValue(it->second, "host");
  auto routes = Poco::makeShared<Poco::JSON::Array>();
  std::int64_t revision = -1;
  auto answer = jsonObject();
  if (limit == 0 && after.prefix.empty() && after.host.empty() && !host) {
    for (const auto& r : store_.loadRoutes(&revision)) routes->add(routeJson(r));
  } else {
    // One more than asked tells whether another page follows.
    auto page = store_.loadRoutePage(after, limit == 0 ? 0 : limit + 1, &revision, host);
    const bool more = limit > 0 && page.size() > limit;
    if (more) page.pop_back();
    for (const auto& r : page) routes->add(routeJson(r));
    answer->set("routes", routes);
    if (more) answer->set("next", page.back().prefix);
    // Several hosts may share the last prefix: the next page starts after this one's.
    if (more && !page.back().host.empty()) answer->set("nextHost", page.back().host);
  }
  if (!answer->has("routes")) answer->set("routes", routes);
  return jsonAnswer(200, answer, revision);
}

AdminResponse AdminApi::createRoute(const AdminRequest& request) {
  const auto body = parseJsonObject(request.body);
  std::set<std::string> known{"prefixPath", "host", "targets", "balancer", "healthCheck"};
  known.insert(routePolicyFields().begin(), routePolicyFields().end());
  rejectUnknownFields(*body, known);
  RouteSpec spec;
  spec.prefix = readPrefixField(*body);
  spec.host = readHostField(*body);
  spec.targets = readTargetSpecsField(*body, false);
  spec.balancer = readBalancerField(*body);
  spec.health = readHealthCheckField(*body, healthDefaults_).value_or(healthDefaults_);
  readRoutePolicies(*body, spec.policies);
  const auto who = writer(request);

  std::lock_guard<std::mutex> lock(writeMutex_);
  RouteRecord route;
  std::int64_t revision = -1;
  try {
    route = store_.createRoute(spec, who, &revision);
  } catch (const Conflict&) {
    throw ApiError(409, "route " + spec.key().text() + " already exists");
  }
  written();
  logLine("created route " + spec.key().text() + " (" + toString(spec.balancer) + ", " +
          plural(static_cast<int>(spec.targets.size()), "target") + ": " +
          joined(urlsOf(spec.targets)) + "; health check " + describe(spec.health) + ")");
  return jsonAnswer(201, routeJson(route), revision);
}

AdminResponse AdminApi::deleteRoute(const AdminRequest& request) {
  const auto params = queryParams(request, {"prefixPath", "host"});
  const RouteKey key = routeParam(params);
  const auto who = writer(request);

  std::lock_guard<std::mutex> lock(writeMutex_);
  const auto route = store_.findRoute(key);
  std::int64_t revision = -1;
  try {
    store_.deleteRoute(key, who, &revision);
  } catch (const NotFound&) {
    throw routeNotFound(key);
  }
  written();
  const int targets = route ? static_cast<int>(route->targets.size()) : 0;
  logLine("deleted route " + key.text() + " with " + plural(targets, "target"));
  return messageAnswer("deleted route " + key.text(), revision);
}

AdminResponse AdminApi::patchRoute(const AdminRequest& request) {
  const auto params = queryParams(request, {"prefixPath", "host"});
  const RouteKey key = routeParam(params);
  const auto body = parseJsonObject(request.body);
  std::set<std::string> known{"balancer", "healthCheck"};
  known.insert(routePolicyFields().begin(), routePolicyFields().end());
  rejectUnknownFields(*body, known);
  bool any = false;
  // A policy field given as null is a change too: it goes back to its default.
  for (const auto& field : known)
    any = any || present(*body, field) || (routePolicyFields().count(field) && body->has(field));
  if (!any)
    throw ApiError(400, "nothing to change: give balancer, healthCheck or a route policy field");
  const auto who = writer(request);

  std::lock_guard<std::mutex> lock(writeMutex_);
  std::int64_t revision = -1;
  RouteRecord before;
  RouteRecord after;
  try {
    // Applied to the route as the write transaction reads it, so a concurrent change of
    // another field is never undone.
    after = store_.updateRoute(
        key,
        [&](RouteRecord& route) {
          before = route;
          if (present(*body, "balancer")) route.balancer = readBalancerField(*body);
          if (auto health = readHealthCheckField(*body, route.health)) route.health = *health;
          readRoutePolicies(*body, route.policies);
        },
        who, &revision);
  } catch (const NotFound&) {
    throw routeNotFound(key);
  }
  written();
  const auto [was, is] = ChangeLog::routeDifference(before, after);
  logLine("route " + key.text() + ": " +
          (is->size() == 0 ? std::string("unchanged") : toJsonText(was) + " -> " + toJsonText(is)) +
          " (by " + request.client + ")");
  return jsonAnswer(200, routeJson(after), revision);
}

}  // namespace portico

namespace portico {

AdminResponse AdminApi::getConfig(const AdminRequest& request) {
  queryParams(request, {});
  std::int64_t revision = -1;
  const auto routes = store_.loadRoutes(&revision);
  return jsonAnswer(200, configJson(revision, routes), revision);
}

AdminResponse AdminApi::putConfig(const AdminRequest& request) {
  const bool dryRun = dryRunParam(queryParams(request, {"dryRun"}));
  const auto desired = readConfigDocument(*parseJsonObject(request.body), healthDefaults_);
  const auto who = writer(request);

  std::lock_guard<std::mutex> lock(writeMutex_);
  if (!dryRun) return applyConfig(desired, who, "applied a configuration");
  std::int64_t revision = -1;
  const auto routes = store_.loadRoutes(&revision);
  requireMatch(who.ifMatch, revision);
  return jsonAnswer(200, changesJson(revision, ConfigDiff::between(desired, routes)), revision);
}

AdminResponse AdminApi::revert(const AdminRequest& request) {
  const bool dryRun = dryRunParam(queryParams(request, {"dryRun"}));
  const auto body = parseJsonObject(request.body);
  rejectUnknownFields(*body, {"revision"});
  if (!present(*body, "revision")) throw ApiError(400, "missing field 'revision'");
  const std::int64_t to =
      integerField(*body, "revision", "revision", 0, std::numeric_limits<std::int64_t>::max());
  auto who = writer(request);
  const IfMatch asked = who.ifMatch;
  who.revertOf = to;

  std::lock_guard<std::mutex> lock(writeMutex_);
  for (int attempt = 1;; ++attempt) {
    const auto history = store_.historyAfter(to);
    const auto now = history.revision;
    if (to > now)
      throw ApiError(400, "invalid field 'revision': " + std::to_string(to) +
                              " is after the store's revision " + std::to_string(now));
    if (!history.complete) {
      const auto kept = history.oldest >= 0 ? history.oldest : now;
      throw ApiError(409, "history before revision " + std::to_string(kept) +
                              " has been trimmed (store.history_limit), so revision " +
                              std::to_string(to) + " cannot be rebuilt: revert to revision " +
                              std::to_string(kept) + " or later");
    }
    requireMatch(asked, now);
    const auto desired = ConfigRewind::undo(history.routes, history.changes);
    if (dryRun)
      return jsonAnswer(200, changesJson(now, ConfigDiff::between(desired, history.routes)), now);
    // Applied on the state the rewind started from; a write in between means reading again.
    who.ifMatch = IfMatch::parse("\"" + std::to_string(now) + "\"");
    try {
      return applyConfig(desired, who, "reverted to revision " + std::to_string(to));
    } catch (const PreconditionFailed&) {
      if (attempt == 3) throw;
    }
  }
}

AdminResponse AdminApi::applyConfig(const std::vector<RouteSpec>& desired, const WriteContext& who,
                                    const std::string& what) {
  std::int64_t revision = -1;
  const auto changes = store_.applyConfig(desired, who, &revision);
  if (!changes.empty()) written();
  logLine(what + ": " + plural(static_cast<int>(changes.size()), "change") +
          (changes.empty() ? "" : ", revision " + std::to_string(revision)) + " (by " + who.client +
          ")");
  return jsonAnswer(200, changesJson(revision, changes), revision);
}

}  // namespace portico
