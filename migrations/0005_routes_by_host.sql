-- A route is a host and a prefix: `host` is an exact name, a `*.` wildcard, an IP literal or ''
-- for any host (every route stored before this migration). Route policies (path rewriting,
-- headers, timeouts, resilience, the upstream protocol) are one JSON object in `policies`, in the
-- shape the admin API shows them. SQLite cannot drop the UNIQUE (prefix) constraint in place, so
-- the table is rebuilt (the migration runs with foreign keys off, as SQLite's ALTER TABLE
-- procedure asks, and checks them before it commits); ids are kept, so targets still point home.
CREATE TABLE routes_by_host (
  id INTEGER PRIMARY KEY,
  host TEXT NOT NULL DEFAULT '',
  prefix TEXT NOT NULL,
  balancer TEXT NOT NULL CHECK (balancer IN ('round_robin', 'least_conn', 'ip_hash')),
  health_interval_ms INTEGER NOT NULL CHECK (health_interval_ms > 0),
  health_timeout_ms INTEGER NOT NULL CHECK (health_timeout_ms > 0),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  health_type TEXT NOT NULL DEFAULT 'tcp' CHECK (health_type IN ('tcp', 'http', 'grpc')),
  health_path TEXT NOT NULL DEFAULT '/',
  health_fall INTEGER NOT NULL DEFAULT 1 CHECK (health_fall >= 1),
  health_rise INTEGER NOT NULL DEFAULT 1 CHECK (health_rise >= 1),
  slow_start_ms INTEGER NOT NULL DEFAULT 0 CHECK (slow_start_ms >= 0),
  policies TEXT NOT NULL DEFAULT '{}',
  UNIQUE (host, prefix)
);
INSERT INTO routes_by_host (id, host, prefix, balancer, health_interval_ms, health_timeout_ms,
                            created_at, health_type, health_path, health_fall, health_rise,
                            slow_start_ms)
  SELECT id, '', prefix, balancer, health_interval_ms, health_timeout_ms, created_at, health_type,
         health_path, health_fall, health_rise, slow_start_ms FROM routes;
DROP TABLE routes;
ALTER TABLE routes_by_host RENAME TO routes;

-- Seeds are remembered by route key too.
CREATE TABLE config_seeds_by_host (
  host TEXT NOT NULL DEFAULT '',
  prefix TEXT NOT NULL,
  seeded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (host, prefix)
);
INSERT INTO config_seeds_by_host (host, prefix, seeded_at) SELECT '', prefix, seeded_at FROM config_seeds;
DROP TABLE config_seeds;
ALTER TABLE config_seeds_by_host RENAME TO config_seeds;

-- Every history row names its route's host beside its prefix.
ALTER TABLE changes ADD COLUMN host TEXT NOT NULL DEFAULT '';
DROP INDEX changes_route;
CREATE INDEX changes_route ON changes(route, host, revision);
