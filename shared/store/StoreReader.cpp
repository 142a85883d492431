#include "store/StoreReader.h"

#include "store/ChangeHistory.h"
#include "store/ProxyRegistry.h"
#include "store/RouteReads.h"
#include "store/SqlTransaction.h"

namespace portico {
namespace {

std::int64_t revisionIn(SqlTransaction& tx) {
  return tx.queryInt("SELECT value FROM revision WHERE id = 1");
}

}  // namespace

template <typename F>
auto StoreReader::reading(ReadKind kind, F&& body)
    -> decltype(body(std::declval<SqlTransaction&>())) {
  std::optional<decltype(body(std::declval<SqlTransaction&>()))> result;
  read(kind, [&](SqlTransaction& tx) {
    result.emplace(body(tx));
    tx.commit();
  });
  return std::move(*result);
}

template <typename F>
auto StoreReader::withRevision(std::int64_t* revision, F&& body)
    -> decltype(body(std::declval<SqlTransaction&>())) {
  return reading(ReadKind::Snapshot, [&](SqlTransaction& tx) {
    auto result = body(tx);
    if (revision) *revision = revisionIn(tx);
    return result;
  });
}

std::int64_t StoreReader::revision() {
  return reading(ReadKind::Statement, revisionIn);
}

std::vector<RouteRecord> StoreReader::loadRoutes(std::int64_t* revision) {
  return withRevision(revision, [](SqlTransaction& tx) { return readRoutes(tx); });
}

std::optional<RouteRecord> StoreReader::findRoute(const RouteKey& route, std::int64_t* revision) {
  return withRevision(revision, [&](SqlTransaction& tx) { return readRoute(tx, route); });
}

std::vector<RouteRecord> StoreReader::loadRoutePage(const RouteKey& after, std::size_t limit,
                                                    std::int64_t* revision,
                                                    const std::optional<std::string>& host) {
  return withRevision(revision,
                      [&](SqlTransaction& tx) { return readRoutePage(tx, after, limit, host); });
}

ChangePage StoreReader::changes(const ChangeQuery& query, std::int64_t* revision) {
  return reading(ReadKind::Snapshot, [&](SqlTransaction& tx) {
    const std::int64_t current = revisionIn(tx);
    auto page = readChanges(tx, query, current);
    if (revision) *revision = current;
    return page;
  });
}

RouteChanges StoreReader::routesChangedSince(std::int64_t since) {
  return reading(ReadKind::Snapshot,
                 [&](SqlTransaction& tx) { return readRouteChanges(tx, since); });
}

HistoryAfter StoreReader::historyAfter(std::int64_t since) {
  return reading(ReadKind::Snapshot,
                 [&](SqlTransaction& tx) { return readHistoryAfter(tx, since); });
}

ProxyRoster StoreReader::proxies() {
  return reading(ReadKind::Statement, readProxyRoster);
}

}  // namespace portico
