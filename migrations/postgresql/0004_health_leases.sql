-- Several sidecars on one store: each probes the targets it holds a lease on. Times are
-- milliseconds since the Unix epoch on the database server's clock, so sidecars on machines
-- whose clocks differ still agree on when a lease expires.
CREATE FUNCTION portico_now_ms() RETURNS BIGINT LANGUAGE sql VOLATILE AS
  $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT $$;
-- A sidecar is live while its row has not expired; it renews the row with its leases.
CREATE TABLE sidecars (
  id TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
-- Which sidecar probes a target (and alone writes its verdicts) until the lease expires.
CREATE TABLE health_leases (
  target_id BIGINT PRIMARY KEY REFERENCES targets(id) ON DELETE CASCADE,
  holder TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX health_leases_holder ON health_leases(holder);
