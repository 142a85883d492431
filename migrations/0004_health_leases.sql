-- Several sidecars on one store: each probes the targets it holds a lease on. Times are
-- milliseconds since the Unix epoch on the store's clock.
-- A sidecar is live while its row has not expired; it renews the row with its leases.
CREATE TABLE sidecars (
  id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
-- Which sidecar probes a target (and alone writes its verdicts) until the lease expires.
CREATE TABLE health_leases (
  target_id INTEGER PRIMARY KEY REFERENCES targets(id) ON DELETE CASCADE,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX health_leases_holder ON health_leases(holder);
