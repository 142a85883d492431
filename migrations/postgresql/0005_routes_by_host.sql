-- A route is a host and a prefix: `host` is an exact name, a `*.` wildcard, an IP literal or ''
-- for any host (every route stored before this migration). Route policies (path rewriting,
-- headers, timeouts, resilience, the upstream protocol) are one JSON object in `policies`, in the
-- shape the admin API shows them (text, like before/after in the history).
ALTER TABLE routes ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE routes ADD COLUMN policies TEXT NOT NULL DEFAULT '{}';
ALTER TABLE routes DROP CONSTRAINT routes_prefix_key;
ALTER TABLE routes ADD CONSTRAINT routes_host_prefix_key UNIQUE (host, prefix);
ALTER TABLE routes DROP CONSTRAINT routes_health_type_check;
ALTER TABLE routes ADD CONSTRAINT routes_health_type_check CHECK (health_type IN ('tcp', 'http', 'grpc'));

-- Seeds are remembered by route key too.
ALTER TABLE config_seeds ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE config_seeds DROP CONSTRAINT config_seeds_pkey;
ALTER TABLE config_seeds ADD PRIMARY KEY (host, prefix);

-- Every history row names its route's host beside its prefix.
ALTER TABLE changes ADD COLUMN host TEXT NOT NULL DEFAULT '';
DROP INDEX changes_route;
CREATE INDEX changes_route ON changes(route, host, revision);
