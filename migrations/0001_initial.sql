-- Routes, their targets, and the revision counter the proxy polls.
CREATE TABLE routes (
  id INTEGER PRIMARY KEY,
  prefix TEXT NOT NULL UNIQUE,
  balancer TEXT NOT NULL CHECK (balancer IN ('round_robin', 'least_conn', 'ip_hash')),
  health_interval_ms INTEGER NOT NULL CHECK (health_interval_ms > 0),
  health_timeout_ms INTEGER NOT NULL CHECK (health_timeout_ms > 0),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE targets (
  id INTEGER PRIMARY KEY,
  route_id INTEGER NOT NULL REFERENCES routes(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  healthy INTEGER NOT NULL DEFAULT 1 CHECK (healthy IN (0, 1)),
  last_checked_at TEXT,
  last_error TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (route_id, url)
);
CREATE INDEX targets_route ON targets(route_id);

-- One row; every committed change to routes, targets or health verdicts bumps it.
CREATE TABLE revision (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  value INTEGER NOT NULL
);
INSERT INTO revision (id, value) VALUES (1, 1);
