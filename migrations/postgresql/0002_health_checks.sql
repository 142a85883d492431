-- Per-route probe kind and thresholds; when a target's verdict last changed.
ALTER TABLE routes ADD COLUMN health_type TEXT NOT NULL DEFAULT 'tcp' CHECK (health_type IN ('tcp', 'http'));
ALTER TABLE routes ADD COLUMN health_path TEXT NOT NULL DEFAULT '/';
ALTER TABLE routes ADD COLUMN health_fall INTEGER NOT NULL DEFAULT 1 CHECK (health_fall >= 1);
ALTER TABLE routes ADD COLUMN health_rise INTEGER NOT NULL DEFAULT 1 CHECK (health_rise >= 1);
ALTER TABLE targets ADD COLUMN last_changed_at TEXT;

-- Prefixes once created from configuration: a route the API deleted is not re-created on restart.
CREATE TABLE config_seeds (
  prefix TEXT PRIMARY KEY,
  seeded_at TEXT NOT NULL DEFAULT portico_now()
);
INSERT INTO config_seeds (prefix) SELECT prefix FROM routes;
