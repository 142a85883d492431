#include "store/sqlite/SqliteStore.h"

#include <Poco/File.h>
#include <Poco/Path.h>

#include <chrono>
#include <set>
#include <type_traits>

#include "base/Errors.h"
#include "model/ModelJson.h"
#include "store/sqlite/Sqlite.h"
#include "store/sqlite/SqliteChangeLog.h"
#include "store/sqlite/SqliteMigrations.h"
#include "store/sqlite/SqliteReaders.h"

namespace portico {
namespace {

constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
// The lease clock: milliseconds since the Unix epoch.
constexpr const char* kNowMs = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
// How long a statement waits for another connection's lock before failing with StoreBusy:
// long enough to ride out a checkpoint or an operator's short sqlite3 session, short enough
// that an admin request answers well within a client's usual timeout.
constexpr int kBusyTimeoutMs = 5000;
// Check-time stamps are bookkeeping: under another process's lock they give up quickly rather
// than keep this process's writer (and the API writes queued behind it) waiting 5 s a sweep.
constexpr int kStampBusyTimeoutMs = 100;

/// Sets a connection's busy timeout for a scope and puts the usual one back.
class BusyTimeout {
 public:
  BusyTimeout(SqliteConnection& conn, int ms) : conn_(conn) {
    sqlite3_busy_timeout(conn.get(), ms);
  }
  ~BusyTimeout() { sqlite3_busy_timeout(conn_.get(), kBusyTimeoutMs); }
  BusyTimeout(const BusyTimeout&) = delete;
  BusyTimeout& operator=(const BusyTimeout&) = delete;

 private:
  SqliteConnection& conn_;
};

std::string queryText(SqliteConnection& conn, const std::string& sql) {
  SqliteStatement st(conn.get(), sql);
  if (!st.step()) throw StoreError("store: no row for " + sql);
  return st.columnText(0);
}

void requireWeight(int weight) {
  if (weight < 0 || weight > kMaxWeight)
    throw InvalidInput("weight " + std::to_string(weight) + " is out of range 0-" +
                       std::to_string(kMaxWeight));
}

Poco::JSON::Object::Ptr one(const std::string& name, const Poco::Dynamic::Var& value) {
  auto o = jsonObject();
  o->set(name, value);
  return o;
}

std::int64_t insertRoute(SqliteConnection& conn, const RouteSpec& spec) {
  SqliteStatement st(conn.get(),
                     "INSERT INTO routes (prefix, balancer, health_interval_ms, health_timeout_ms, "
                     "health_type, health_path, health_fall, health_rise, slow_start_ms) VALUES "
                     "(?,?,?,?,?,?,?,?,?)");
  st.bind(1, spec.prefix)
      .bind(2, toString(spec.balancer))
      .bind(3, static_cast<std::int64_t>(spec.health.interval.count()))
      .bind(4, static_cast<std::int64_t>(spec.health.timeout.count()))
      .bind(5, toString(spec.health.type))
      .bind(6, spec.health.path)
      .bind(7, spec.health.fall)
      .bind(8, spec.health.rise)
      .bind(9, static_cast<std::int64_t>(spec.health.slowStart.count()));
  st.step();
  return sqlite3_last_insert_rowid(conn.get());
}

std::int64_t revisionOf(SqliteConnection& conn) {
  return conn.queryInt("SELECT value FROM revision WHERE id = 1");
}

/// Throws StoreError when this process cannot write the store: the sidecar would otherwise
/// start, say it listens, and fail every change with a 500.
void checkCanWrite(SqliteConnection& conn) {
  if (sqlite3_db_readonly(conn.get(), "main") == 1)
    throw StoreError(
        "cannot write the store: the file is read-only for this process (check the owner and "
        "permissions of the file and of its directory)");
  try {
    // A write, rolled back: finds what the open flags do not (a read-only directory, a lock).
    SqliteTransaction tx(conn, SqliteTransaction::Kind::Immediate);
    conn.exec("UPDATE revision SET value = value WHERE id = 1");
  } catch (const StoreBusy&) {
    throw;
  } catch (const StoreError& e) {
    throw StoreError(std::string("cannot write the store: ") + e.what());
  }
}

}  // namespace

/// One write transaction: holds the store's lock and SQLite's write lock, checks the writer's
/// If-Match against the revision inside the transaction, collects the history rows of what it
/// changes and, when there are any, bumps the revision and writes them before committing. A
/// change without a history row cannot bump the revision, and the reverse.
class SqliteStore::Write {
 public:
  Write(SqliteStore& store, const WriteContext& who)
      : store_(store),
        lock_(store.mutex_),
        tx_(*store.conn_, SqliteTransaction::Kind::Immediate),
        revision_(revisionOf(*store.conn_)),
        now_(queryText(*store.conn_, std::string("SELECT ") + kNow)),
        log_(who, now_) {
    if (!who.ifMatch.matches(revision_))
      throw PreconditionFailed("the store is at revision " + std::to_string(revision_) +
                                   ", not at the one If-Match names (" + who.ifMatch.text() +
                                   "); nothing was changed: read it again and retry",
                               revision_);
  }

  SqliteConnection& conn() { return *store_.conn_; }
  ChangeLog& log() { return log_; }
  /// The transaction's time, the same for every row and timestamp it writes.
  const std::string& now() const { return now_; }

  /// Commits; returns the revision after (unchanged when nothing changed).
  std::int64_t commit() {
    if (!log_.empty()) {
      conn().exec("UPDATE revision SET value = value + 1 WHERE id = 1");
      ++revision_;
      writeChanges(conn(), log_, revision_, store_.historyLimit_);
    }
    tx_.commit();
    return revision_;
  }

  /// Inserts `targets` on route `routeId` (those present are skipped) with their history rows.
  int insertTargets(std::int64_t routeId, const std::string& prefix,
                    const std::vector<TargetSpec>& targets) {
    SqliteStatement st(conn().get(),
                       "INSERT OR IGNORE INTO targets (route_id, url, healthy, weight, "
                       "serving_since, modified_at) VALUES (?, ?, 1, ?, ?4, ?4)");
    int added = 0;
    for (const auto& t : targets) {
      requireWeight(t.weight);
      st.bind(1, routeId).bind(2, t.url).bind(3, t.weight).bind(4, now_);
      st.step();
      st.reset();
      if (sqlite3_changes(conn().get()) == 0) continue;
      ++added;
      TargetRecord fresh;
      fresh.weight = t.weight;
      log_.add("target.add", prefix, t.url, nullptr, ChangeLog::targetJson(fresh));
    }
    return added;
  }

 private:
  SqliteStore& store_;
  std::lock_guard<std::mutex> lock_;
  SqliteTransaction tx_;
  std::int64_t revision_;
  std::string now_;
  ChangeLog log_;
};

SqliteStore::SqliteStore(const std::string& path, Access access,
                         const std::vector<Migration>& migrations)
    : access_(access) {
  const bool writable = access == Access::ReadWrite;
  if (writable) {
    const Poco::Path parent = Poco::Path(path).parent();
    if (!parent.toString().empty()) Poco::File(parent).createDirectories();
  } else if (!Poco::File(path).exists()) {
    throw StoreNotReady("store '" + path +
                        "' does not exist yet; start portico-sidecar to create it");
  }
  // The proxy opens read-write but sets query_only: a read-only open of a WAL database
  // fails when its -shm file is absent, and query_only still makes every write an error.
  conn_ = std::make_unique<SqliteConnection>(
      path, SQLITE_OPEN_READWRITE | (writable ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX);
  sqlite3_busy_timeout(conn_->get(), kBusyTimeoutMs);
  conn_->exec("PRAGMA foreign_keys = ON");
  if (writable) {
    conn_->exec("PRAGMA journal_mode = WAL");
    conn_->exec("PRAGMA synchronous = FULL");
  }
  migrate(*conn_, migrations, writable);
  if (writable) checkCanWrite(*conn_);
  if (!writable) conn_->exec("PRAGMA query_only = ON");
  readers_ = std::make_unique<SqliteReaders>(path, kBusyTimeoutMs);
}

SqliteStore::~SqliteStore() = default;

int SqliteStore::checkSchema(const std::string& path, const std::vector<Migration>& migrations) {
  if (!Poco::File(path).exists()) return -1;
  // immutable: SQLite takes no lock and creates no -shm or -wal file; the header (where the
  // schema version lives) is read from the main file, which every migration's commit reaches
  // once the writer checkpoints.
  const std::string uri = "file:" + path + "?immutable=1";
  SqliteConnection conn(uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX);
  std::int64_t version = 0;
  try {
    version = conn.queryInt("PRAGMA user_version");
    // Reading the schema proves it is an SQLite database at all.
    conn.queryInt("SELECT count(*) FROM sqlite_master");
  } catch (const StoreError& e) {
    throw StoreError(std::string("not a usable store: ") + e.what());
  }
  const auto known = static_cast<std::int64_t>(migrations.size());
  if (version > known)
    throw StoreError("store schema version " + std::to_string(version) +
                     " is newer than this binary knows (" + std::to_string(known) +
                     "); run a newer Portico");
  return static_cast<int>(version);
}

template <typename F>
auto SqliteStore::timedWrite(F&& body) -> decltype(body()) {
  // Timed from before the lock: what a writer waits for is part of what the metric shows.
  const auto start = std::chrono::steady_clock::now();
  const auto report = [&] {
    if (observer_)
      observer_->written(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  try {
    if constexpr (std::is_void_v<decltype(body())>) {
      body();
      report();
    } else {
      auto result = body();
      report();
      return result;
    }
  } catch (const StoreBusy&) {
    if (observer_) observer_->busy();
    throw;
  }
}

void SqliteStore::setHistoryLimit(std::int64_t rows) {
  if (rows < 1) throw InvalidInput("the history limit must be at least 1 row");
  std::lock_guard<std::mutex> lock(mutex_);
  historyLimit_ = rows;
}

void SqliteStore::requireWritable() const {
  if (access_ != Access::ReadWrite) throw StoreError("store opened read-only");
}

int SqliteStore::schemaVersion() {
  auto reader = readers_->acquire();
  return static_cast<int>(reader->queryInt("PRAGMA user_version"));
}

std::int64_t SqliteStore::revision() {
  auto reader = readers_->acquire();
  return revisionOf(*reader);
}

std::vector<RouteRecord> SqliteStore::loadRoutesLocked(SqliteConnection& conn,
                                                       const std::string& where,
                                                       const std::string& arg, std::size_t limit) {
  std::vector<RouteRecord> routes;
  {
    SqliteStatement st(
        conn.get(),
        "SELECT id, prefix, balancer, health_interval_ms, health_timeout_ms, health_type, "
        "health_path, health_fall, health_rise, slow_start_ms FROM routes " +
            where + " ORDER BY prefix" +
            (limit > 0 ? " LIMIT " + std::to_string(limit) : std::string()));
    if (!where.empty()) st.bind(1, arg);
    while (st.step()) {
      RouteRecord r;
      r.id = st.columnInt(0);
      r.prefix = st.columnText(1);
      r.balancer = parseBalancer(st.columnText(2));
      r.health.interval = std::chrono::milliseconds(st.columnInt(3));
      r.health.timeout = std::chrono::milliseconds(st.columnInt(4));
      r.health.type = parseProbeType(st.columnText(5));
      r.health.path = st.columnText(6);
      r.health.fall = static_cast<int>(st.columnInt(7));
      r.health.rise = static_cast<int>(st.columnInt(8));
      r.health.slowStart = std::chrono::milliseconds(st.columnInt(9));
      routes.push_back(std::move(r));
    }
  }
  SqliteStatement st(
      conn.get(),
      "SELECT id, url, healthy, COALESCE(last_checked_at, ''), COALESCE(last_changed_at, ''), "
      "COALESCE(last_error, ''), weight, state, COALESCE(serving_since, ''), "
      "COALESCE(modified_at, ''), COALESCE((SELECT holder FROM health_leases l WHERE "
      "l.target_id = targets.id AND l.expires_at > " +
          std::string(kNowMs) + "), '') FROM targets WHERE route_id = ? ORDER BY id");
  for (auto& r : routes) {
    st.bind(1, r.id);
    while (st.step()) {
      TargetRecord t;
      t.id = st.columnInt(0);
      t.url = st.columnText(1);
      t.healthy = st.columnInt(2) != 0;
      t.lastCheckedAt = st.columnText(3);
      t.lastChangedAt = st.columnText(4);
      t.lastError = st.columnText(5);
      t.weight = static_cast<int>(st.columnInt(6));
      t.state = parseServingState(st.columnText(7));
      t.servingSince = st.columnText(8);
      t.modifiedAt = st.columnText(9);
      t.checkedBy = st.columnText(10);
      r.targets.push_back(std::move(t));
    }
    st.reset();
  }
  return routes;
}

std::vector<RouteRecord> SqliteStore::loadRoutes(std::int64_t* revision) {
  auto reader = readers_->acquire();
  SqliteTransaction tx(*reader, SqliteTransaction::Kind::Deferred);
  auto routes = loadRoutesLocked(*reader, "", "");
  if (revision) *revision = revisionOf(*reader);
  tx.commit();
  return routes;
}

std::optional<RouteRecord> SqliteStore::findRoute(const std::string& prefix,
                                                  std::int64_t* revision) {
  auto reader = readers_->acquire();
  SqliteTransaction tx(*reader, SqliteTransaction::Kind::Deferred);
  auto routes = loadRoutesLocked(*reader, "WHERE prefix = ?", prefix);
  if (revision) *revision = revisionOf(*reader);
  tx.commit();
  if (routes.empty()) return std::nullopt;
  return std::move(routes.front());
}

RouteChanges SqliteStore::routesChangedSince(std::int64_t since) {
  auto reader = readers_->acquire();
  SqliteTransaction tx(*reader, SqliteTransaction::Kind::Deferred);
  RouteChanges changes;
  changes.revision = revisionOf(*reader);
  if (since == changes.revision) {
    tx.commit();
    return changes;
  }
  // History rows go oldest first (by id, which grows with the revision): when the oldest row
  // kept is at or below `since`, every row after `since` is still there. Otherwise some may be
  // gone (or the store is not the one `since` came from): read everything.
  bool reaches = since >= 0 && since < changes.revision;
  if (reaches) {
    // -1 when the history is empty.
    SqliteStatement oldest(reader->get(), "SELECT COALESCE(MIN(revision), -1) FROM changes");
    reaches = oldest.step() && oldest.columnInt(0) >= 0 && oldest.columnInt(0) <= since;
  }
  if (!reaches) {
    changes.complete = false;
    changes.routes = loadRoutesLocked(*reader, "", "");
    tx.commit();
    return changes;
  }
  std::vector<std::string> touched;
  {
    SqliteStatement st(reader->get(),
                       "SELECT DISTINCT route FROM changes WHERE revision > ? ORDER BY route");
    st.bind(1, since);
    while (st.step()) touched.push_back(st.columnText(0));
  }
  for (const auto& prefix : touched) {
    auto found = loadRoutesLocked(*reader, "WHERE prefix = ?", prefix);
    if (found.empty()) {
      changes.removed.push_back(prefix);
    } else {
      changes.routes.push_back(std::move(found.front()));
    }
  }
  tx.commit();
  return changes;
}

std::vector<RouteRecord> SqliteStore::loadRoutePage(const std::string& after, std::size_t limit,
                                                    std::int64_t* revision) {
  auto reader = readers_->acquire();
  SqliteTransaction tx(*reader, SqliteTransaction::Kind::Deferred);
  auto routes = loadRoutesLocked(*reader, "WHERE prefix > ?", after, limit);
  if (revision) *revision = revisionOf(*reader);
  tx.commit();
  return routes;
}

ChangePage SqliteStore::changes(const ChangeQuery& query, std::int64_t* revision) {
  auto reader = readers_->acquire();
  SqliteTransaction tx(*reader, SqliteTransaction::Kind::Deferred);
  const std::int64_t current = revisionOf(*reader);
  auto page = readChanges(*reader, query, current);
  if (revision) *revision = current;
  tx.commit();
  return page;
}

RouteRecord SqliteStore::createRoute(const RouteSpec& spec, const WriteContext& who,
                                     std::int64_t* revision) {
  requireWritable();
  return timedWrite([&] {
    Write w(*this, who);
    if (!loadRoutesLocked(w.conn(), "WHERE prefix = ?", spec.prefix).empty())
      throw Conflict("route " + spec.prefix + " already exists");
    const std::int64_t id = insertRoute(w.conn(), spec);
    w.log().add("route.create", spec.prefix, "", nullptr,
                ChangeLog::routeJson(toString(spec.balancer), spec.health));
    w.insertTargets(id, spec.prefix, spec.targets);
    auto routes = loadRoutesLocked(w.conn(), "WHERE prefix = ?", spec.prefix);
    const auto after = w.commit();
    if (revision) *revision = after;
    return std::move(routes.front());
  });
}

void SqliteStore::deleteRoute(const std::string& prefix, const WriteContext& who,
                              std::int64_t* revision) {
  requireWritable();
  return timedWrite([&] {
    Write w(*this, who);
    const auto routes = loadRoutesLocked(w.conn(), "WHERE prefix = ?", prefix);
    if (routes.empty()) throw NotFound("route " + prefix + " not found");
    const RouteRecord& route = routes.front();
    SqliteStatement st(w.conn().get(), "DELETE FROM routes WHERE id = ?");
    st.bind(1, route.id);
    st.step();
    for (const auto& t : route.targets)
      w.log().add("target.remove", prefix, t.url, ChangeLog::targetJson(t), nullptr);
    w.log().add("route.delete", prefix, "",
                ChangeLog::routeJson(toString(route.balancer), route.health), nullptr);
    const auto after = w.commit();
    if (revision) *revision = after;
  });
}

int SqliteStore::addTargets(const std::string& prefix, const std::vector<TargetSpec>& targets,
                            const std::optional<HealthSpec>& health, const WriteContext& who,
                            std::int64_t* revision) {
  requireWritable();
  return timedWrite([&] {
    Write w(*this, who);
    const auto routes = loadRoutesLocked(w.conn(), "WHERE prefix = ?", prefix);
    if (routes.empty()) throw NotFound("route " + prefix + " not found");
    const RouteRecord& route = routes.front();
    const int added = w.insertTargets(route.id, prefix, targets);
    if (health && !(*health == route.health)) {
      SqliteStatement st(w.conn().get(),
                         "UPDATE routes SET health_interval_ms = ?, health_timeout_ms = ?, "
                         "health_type = ?, health_path = ?, health_fall = ?, health_rise = ?, "
                         "slow_start_ms = ? WHERE id = ?");
      st.bind(1, static_cast<std::int64_t>(health->interval.count()))
          .bind(2, static_cast<std::int64_t>(health->timeout.count()))
          .bind(3, toString(health->type))
          .bind(4, health->path)
          .bind(5, health->fall)
          .bind(6, health->rise)
          .bind(7, static_cast<std::int64_t>(health->slowStart.count()))
          .bind(8, route.id);
      st.step();
      w.log().add("route.health_check", prefix, "", healthCheckJson(route.health),
                  healthCheckJson(*health));
    }
    const auto after = w.commit();
    if (revision) *revision = after;
    return added;
  });
}

int SqliteStore::removeTargets(const std::string& prefix, const std::vector<std::string>& urls,
                               const WriteContext& who, std::int64_t* revision) {
  requireWritable();
  return timedWrite([&] {
    Write w(*this, who);
    const auto routes = loadRoutesLocked(w.conn(), "WHERE prefix = ?", prefix);
    if (routes.empty()) throw NotFound("route " + prefix + " not found");
    int removed = 0;
    std::set<std::int64_t> gone;
    SqliteStatement st(w.conn().get(), "DELETE FROM targets WHERE id = ?");
    for (const auto& url : urls) {
      for (const auto& t : routes.front().targets) {
        if (t.url != url || !gone.insert(t.id).second) continue;
        st.bind(1, t.id);
        st.step();
        st.reset();
        ++removed;
        w.log().add("target.remove", prefix, url, ChangeLog::targetJson(t), nullptr);
        break;
      }
    }
    const auto after = w.commit();
    if (revision) *revision = after;
    return removed;
  });
}

TargetRecord SqliteStore::updateTarget(const std::string& prefix, const std::string& url,
                                       const TargetUpdate& update, const WriteContext& who,
                                       std::int64_t* revision) {
  requireWritable();
  if (update.weight) requireWeight(*update.weight);
  return timedWrite([&] {
    Write w(*this, who);
    const auto routes = loadRoutesLocked(w.conn(), "WHERE prefix = ?", prefix);
    if (routes.empty()) throw NotFound("route " + prefix + " not found");
    const TargetRecord* found = nullptr;
    for (const auto& t : routes.front().targets) {
      if (t.url == url) found = &t;
    }
    if (!found) throw NotFound("target " + url + " not found on route " + prefix);
    const TargetRecord& before = *found;
    if (update.weight && *update.weight != before.weight) {
      SqliteStatement st(w.conn().get(),
                         "UPDATE targets SET weight = ?, modified_at = ? WHERE id = ?");
      st.bind(1, *update.weight).bind(2, w.now()).bind(3, before.id);
      st.step();
      w.log().add("target.weight", prefix, url, one("weight", before.weight),
                  one("weight", *update.weight));
    }
    if (update.state && *update.state != before.state) {
      // Back in rotation: slow start ramps from now.
      const bool resumes = *update.state == ServingState::Active;
      SqliteStatement st(
          w.conn().get(),
          "UPDATE targets SET state = ?, modified_at = ?2, serving_since = CASE WHEN "
          "?3 THEN ?2 ELSE serving_since END WHERE id = ?4");
      st.bind(1, toString(*update.state))
          .bind(2, w.now())
          .bind(3, resumes ? 1 : 0)
          .bind(4, before.id);
      st.step();
      w.log().add("target.state", prefix, url, one("state", toString(before.state)),
                  one("state", toString(*update.state)));
    }
    TargetRecord result;
    auto after = loadRoutesLocked(w.conn(), "WHERE prefix = ?", prefix);
    for (auto& t : after.front().targets) {
      if (t.id == before.id) result = std::move(t);
    }
    const auto committed = w.commit();
    if (revision) *revision = committed;
    return result;
  });
}

std::vector<std::string> SqliteStore::seed(const std::vector<RouteSpec>& routes) {
  requireWritable();
  return timedWrite([&] {
    Write w(*this, WriteContext::config());
    std::vector<std::string> created;
    SqliteStatement seeded(w.conn().get(),
                           "INSERT OR IGNORE INTO config_seeds (prefix) VALUES (?)");
    for (const auto& spec : routes) {
      seeded.bind(1, spec.prefix);
      seeded.step();
      const bool firstSeed = sqlite3_changes(w.conn().get()) > 0;
      seeded.reset();
      if (firstSeed && loadRoutesLocked(w.conn(), "WHERE prefix = ?", spec.prefix).empty()) {
        const std::int64_t id = insertRoute(w.conn(), spec);
        w.log().add("route.create", spec.prefix, "", nullptr,
                    ChangeLog::routeJson(toString(spec.balancer), spec.health));
        w.insertTargets(id, spec.prefix, spec.targets);
        created.push_back(spec.prefix);
      }
    }
    w.commit();
    return created;
  });
}

bool SqliteStore::recordVerdict(std::int64_t targetId, bool healthy, const std::string& error,
                                const std::string& holder) {
  requireWritable();
  return timedWrite([&] {
    Write w(*this, WriteContext{"health", holder, {}});
    if (!holder.empty()) {
      SqliteStatement held(w.conn().get(),
                           std::string("SELECT 1 FROM health_leases WHERE target_id = ? AND "
                                       "holder = ? AND expires_at > ") +
                               kNowMs);
      held.bind(1, targetId).bind(2, holder);
      if (!held.step()) return false;
    }
    SqliteStatement find(w.conn().get(),
                         "SELECT t.url, r.prefix, t.healthy, COALESCE(t.last_error, ''), t.state "
                         "FROM targets t JOIN routes r ON r.id = t.route_id WHERE t.id = ?");
    find.bind(1, targetId);
    if (!find.step()) return false;
    const std::string url = find.columnText(0);
    const std::string prefix = find.columnText(1);
    const bool wasHealthy = find.columnInt(2) != 0;
    const std::string previousError = find.columnText(3);
    if (wasHealthy == healthy || parseServingState(find.columnText(4)) == ServingState::Disabled)
      return false;
    SqliteStatement st(
        w.conn().get(),
        "UPDATE targets SET healthy = ?1, last_error = ?2, last_changed_at = ?3, last_checked_at = "
        "?3, modified_at = ?3, serving_since = CASE WHEN ?1 = 1 THEN ?3 ELSE serving_since END "
        "WHERE id = ?4");
    st.bind(1, healthy ? 1 : 0);
    if (error.empty()) {
      st.bindNull(2);
    } else {
      st.bind(2, error);
    }
    st.bind(3, w.now()).bind(4, targetId);
    st.step();
    auto verdict = [](bool ok, const std::string& why) {
      auto o = one("healthy", ok);
      if (!ok && !why.empty()) o->set("error", why);
      return o;
    };
    w.log().add("target.health", prefix, url, verdict(wasHealthy, previousError),
                verdict(healthy, error));
    w.commit();
    return true;
  });
}

void SqliteStore::recordChecked(const std::vector<std::int64_t>& targetIds) {
  requireWritable();
  if (targetIds.empty()) return;
  return timedWrite([&] {
    std::lock_guard<std::mutex> lock(mutex_);
    const BusyTimeout quick(*conn_, kStampBusyTimeoutMs);
    SqliteTransaction tx(*conn_, SqliteTransaction::Kind::Immediate);
    SqliteStatement st(conn_->get(), std::string("UPDATE targets SET last_checked_at = ") + kNow +
                                         " WHERE id = ? AND state != 'disabled'");
    for (auto id : targetIds) {
      st.bind(1, id);
      st.step();
      st.reset();
    }
    tx.commit();
  });
}

std::vector<std::int64_t> SqliteStore::renewLeases(const std::string& holder,
                                                   std::chrono::milliseconds ttl) {
  requireWritable();
  std::lock_guard<std::mutex> lock(mutex_);
  // A renewal comes every quarter of the lease: under another process's lock it gives up
  // quickly (the next one will do) rather than queue the API's writes behind a 5 s wait.
  const BusyTimeout quick(*conn_, kStampBusyTimeoutMs);
  SqliteTransaction tx(*conn_, SqliteTransaction::Kind::Immediate);
  const std::int64_t now = conn_->queryInt(std::string("SELECT ") + kNowMs);
  const std::int64_t expires = now + static_cast<std::int64_t>(ttl.count());
  {
    SqliteStatement st(conn_->get(),
                       "INSERT INTO sidecars (id, expires_at) VALUES (?1, ?2) ON CONFLICT (id) "
                       "DO UPDATE SET expires_at = ?2");
    st.bind(1, holder).bind(2, expires);
    st.step();
  }
  {
    SqliteStatement st(conn_->get(), "DELETE FROM sidecars WHERE expires_at <= ?");
    st.bind(1, now);
    st.step();
  }
  {
    // Expired leases, and those of targets nobody checks (disabled since they were taken).
    SqliteStatement st(conn_->get(),
                       "DELETE FROM health_leases WHERE expires_at <= ? OR target_id IN (SELECT "
                       "id FROM targets WHERE state = 'disabled')");
    st.bind(1, now);
    st.step();
  }
  {
    SqliteStatement st(conn_->get(), "UPDATE health_leases SET expires_at = ? WHERE holder = ?");
    st.bind(1, expires).bind(2, holder);
    st.step();
  }
  const std::int64_t live = conn_->queryInt("SELECT count(*) FROM sidecars");
  const std::int64_t total =
      conn_->queryInt("SELECT count(*) FROM targets WHERE state != 'disabled'");
  const std::int64_t share = live > 0 ? (total + live - 1) / live : total;
  std::int64_t mine = 0;
  {
    SqliteStatement st(conn_->get(), "SELECT count(*) FROM health_leases WHERE holder = ?");
    st.bind(1, holder);
    st.step();
    mine = st.columnInt(0);
  }
  if (mine > share) {
    SqliteStatement st(conn_->get(),
                       "DELETE FROM health_leases WHERE target_id IN (SELECT target_id FROM "
                       "health_leases WHERE holder = ? ORDER BY target_id DESC LIMIT ?)");
    st.bind(1, holder).bind(2, mine - share);
    st.step();
  } else if (mine < share) {
    SqliteStatement st(conn_->get(),
                       "INSERT INTO health_leases (target_id, holder, expires_at) SELECT t.id, ?, "
                       "? FROM targets t WHERE t.state != 'disabled' AND NOT EXISTS (SELECT 1 "
                       "FROM health_leases l WHERE l.target_id = t.id) ORDER BY t.id LIMIT ?");
    st.bind(1, holder).bind(2, expires).bind(3, share - mine);
    st.step();
  }
  std::vector<std::int64_t> held;
  {
    SqliteStatement st(conn_->get(),
                       "SELECT target_id FROM health_leases WHERE holder = ? ORDER BY target_id");
    st.bind(1, holder);
    while (st.step()) held.push_back(st.columnInt(0));
  }
  tx.commit();
  return held;
}

void SqliteStore::releaseLeases(const std::string& holder) {
  requireWritable();
  std::lock_guard<std::mutex> lock(mutex_);
  SqliteTransaction tx(*conn_, SqliteTransaction::Kind::Immediate);
  for (const char* sql :
       {"DELETE FROM health_leases WHERE holder = ?", "DELETE FROM sidecars WHERE id = ?"}) {
    SqliteStatement st(conn_->get(), sql);
    st.bind(1, holder);
    st.step();
  }
  tx.commit();
}

}  // namespace portico
