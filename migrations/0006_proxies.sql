-- The proxies that follow this store: each writes its own row right after it applies a
-- revision and every proxy.heartbeat_interval, so the sidecar can tell which revision each one
-- serves and whether it still follows. Times are milliseconds since the Unix epoch on the
-- store's clock (started_at: on the proxy's own).
CREATE TABLE proxies (
  id TEXT PRIMARY KEY,
  addresses TEXT NOT NULL,
  version TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  applied_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  heartbeat_ms INTEGER NOT NULL CHECK (heartbeat_ms > 0)
);
