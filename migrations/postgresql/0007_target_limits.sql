-- Connection limits (issue #20): at most this many requests in flight to the target from one
-- proxy (nginx max_conns); 0 = unlimited.
ALTER TABLE targets ADD COLUMN max_connections INTEGER NOT NULL DEFAULT 0 CHECK (max_connections >= 0);
