-- Weights, serving states and slow start; the change history.
ALTER TABLE targets ADD COLUMN weight INTEGER NOT NULL DEFAULT 100 CHECK (weight BETWEEN 0 AND 1000);
ALTER TABLE targets ADD COLUMN state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'draining', 'disabled'));
-- When the target last became able to take traffic (added, healthy again, re-enabled): slow start
-- ramps from here.
ALTER TABLE targets ADD COLUMN serving_since TEXT;
-- When anything about the target last changed (added, weight, state, health verdict).
ALTER TABLE targets ADD COLUMN modified_at TEXT;
UPDATE targets SET
  serving_since = CASE WHEN healthy = 1 THEN COALESCE(last_changed_at, created_at) END,
  modified_at = COALESCE(last_changed_at, created_at);
ALTER TABLE routes ADD COLUMN slow_start_ms INTEGER NOT NULL DEFAULT 0 CHECK (slow_start_ms >= 0);

-- Every committed change, written in the transaction that makes it. `revision` is the store's
-- revision after the change (several rows share one when a change touches several targets);
-- before/after are JSON. The oldest rows are deleted beyond store.history_limit.
CREATE TABLE changes (
  id INTEGER PRIMARY KEY,
  revision INTEGER NOT NULL,
  time TEXT NOT NULL,
  actor TEXT NOT NULL CHECK (actor IN ('api', 'config', 'health')),
  client TEXT,
  action TEXT NOT NULL,
  route TEXT NOT NULL,
  target TEXT,
  before TEXT,
  after TEXT
);
CREATE INDEX changes_revision ON changes(revision);
CREATE INDEX changes_route ON changes(route, revision);
CREATE INDEX changes_target ON changes(target, revision);
