-- The proxies that follow this store: each writes its own row right after it applies a
-- revision and every proxy.heartbeat_interval, so the sidecar can tell which revision each one
-- serves and whether it still follows. Times are milliseconds since the Unix epoch on the
-- database server's clock (portico_now_ms(); started_at: on the proxy's own).
CREATE TABLE proxies (
  id TEXT PRIMARY KEY,
  addresses TEXT NOT NULL,
  version TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  revision BIGINT NOT NULL,
  applied_at BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  heartbeat_ms BIGINT NOT NULL CHECK (heartbeat_ms > 0)
);
