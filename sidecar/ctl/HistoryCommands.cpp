#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include <chrono>
#include <map>
#include <ostream>
#include <sstream>
#include <thread>

#include "ctl/AnswerTables.h"
#include "ctl/Commands.h"

namespace portico::ctl {

namespace {

using Poco::JSON::Object;

// Without --since, history starts this many revisions back.
constexpr long long kRecentRevisions = 20;

Object::Ptr parseObject(const std::string& json) {
  // Key order as the API wrote it, so -o json lines read like the answers.
  Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(true));
  auto object = parser.parse(json).extract<Object::Ptr>();
  if (!object) throw std::runtime_error("the answer is not a JSON object");
  return object;
}

long long revisionOf(const ApiReply& reply) {
  const std::string digits =
      reply.etag.size() > 2 ? reply.etag.substr(1, reply.etag.size() - 2) : std::string("0");
  return std::stoll(digits);
}

/// One page of history: prints it, and returns (rows, nextSince).
std::pair<std::size_t, long long> printPage(CommandContext& ctx, long long since, bool first) {
  const auto& inv = ctx.inv;
  const std::string limit = inv.option("--limit", "100");
  QueryParams params{{"since", std::to_string(since)}, {"limit", limit}};
  if (inv.has("--route")) {
    params.emplace_back("route", inv.option("--route"));
    params.emplace_back("host", inv.host);
  }
  params.emplace_back("target", inv.option("--target"));
  const auto reply = ctx.api.expect("GET", "/endpoints/changes" + queryString(params));
  const auto page = parseObject(reply.body);
  const auto changes = page->getArray("changes");
  const std::size_t rows = changes ? changes->size() : 0;
  if (ctx.json()) {
    // JSON Lines: one change a line, so a follower can pipe it into jq as it comes.
    for (std::size_t i = 0; i < rows; ++i) {
      changes->getObject(static_cast<unsigned>(i))->stringify(ctx.out);
      ctx.out << "\n";
    }
  } else if (rows > 0 || first) {
    ctx.out << historyTable(reply.body, first);
  }
  ctx.out.flush();
  return {rows, page->optValue<long long>("nextSince", since)};
}

using Counts = std::map<std::string, long long>;

long long count(const Counts& counts, const std::string& key) {
  const auto it = counts.find(key);
  return it == counts.end() ? 0 : it->second;
}

int printStatus(CommandContext& ctx, long long revision, std::size_t routes, const Counts& targets,
                const Counts& proxies) {
  if (ctx.json()) {
    Object status(Poco::JSON_PRESERVE_KEY_ORDER);
    status.set("server", ctx.inv.server);
    status.set("revision", revision);
    status.set("routes", routes);
    Object::Ptr t = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    for (const char* key : {"total", "healthy", "active", "draining", "disabled"})
      t->set(key, count(targets, key));
    status.set("targets", t);
    Object::Ptr p = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    for (const char* key : {"live", "behind", "stale"}) p->set(key, count(proxies, key));
    status.set("proxies", p);
    status.stringify(ctx.out);
    ctx.out << "\n";
    return 0;
  }
  ctx.out << "server    " << ctx.inv.server << "\nrevision  " << revision << "\nroutes    "
          << routes << "\ntargets   " << count(targets, "total") << " ("
          << count(targets, "healthy") << " healthy; " << count(targets, "active") << " active, "
          << count(targets, "draining") << " draining, " << count(targets, "disabled")
          << " disabled)\nproxies   " << count(proxies, "live") << " live, "
          << count(proxies, "behind") << " behind, " << count(proxies, "stale") << " stale\n";
  return 0;
}

}  // namespace

int runHistory(CommandContext& ctx) {
  const auto& inv = ctx.inv;
  long long since = 0;
  if (inv.has("--since")) {
    since = std::stoll(inv.option("--since"));
  } else {
    since =
        std::max(0LL, revisionOf(ctx.api.expect("GET", "/endpoints/proxies")) - kRecentRevisions);
  }
  const std::size_t limit = std::stoul(inv.option("--limit", "100"));
  const std::chrono::milliseconds interval(std::stoll(inv.option("--interval", "1000")));
  bool first = true;
  for (;;) {
    const auto [rows, next] = printPage(ctx, since, first);
    first = false;
    since = next;
    if (rows >= limit) continue;  // more may be waiting already
    if (!inv.has("--follow")) return 0;
    // The admin API has no wait for the next revision (?wait= waits for proxies to apply one
    // that exists), so --follow polls: one small indexed read per interval.
    std::this_thread::sleep_for(interval);
  }
}

int runProxies(CommandContext& ctx) {
  const auto reply = ctx.api.expect("GET", "/endpoints/proxies");
  ctx.out << (ctx.json() ? reply.body + "\n" : proxiesTable(reply.body));
  return 0;
}

int runStatus(CommandContext& ctx) {
  const auto proxies = parseObject(ctx.api.expect("GET", "/endpoints/proxies").body);
  const auto routes = parseObject(ctx.api.expect("GET", "/endpoints/routes").body);
  Counts targets{{"total", 0}, {"healthy", 0}};
  const auto routeList = routes->getArray("routes");
  for (std::size_t r = 0; routeList && r < routeList->size(); ++r) {
    const auto list = routeList->getObject(static_cast<unsigned>(r))->getArray("targets");
    for (std::size_t t = 0; list && t < list->size(); ++t) {
      const auto target = list->getObject(static_cast<unsigned>(t));
      ++targets["total"];
      if (target->optValue<bool>("healthy", false)) ++targets["healthy"];
      ++targets[target->optValue<std::string>("state", "active")];
    }
  }
  Counts states{{"live", 0}, {"behind", 0}, {"stale", 0}};
  const auto proxyList = proxies->getArray("proxies");
  for (std::size_t p = 0; proxyList && p < proxyList->size(); ++p)
    ++states[proxyList->getObject(static_cast<unsigned>(p))->optValue<std::string>("state", "")];
  const long long revision = proxies->optValue<long long>("revision", 0);
  const std::size_t routeCount = routeList ? routeList->size() : 0;
  return printStatus(ctx, revision, routeCount, targets, states);
}

}  // namespace portico::ctl
