-- Configuration as code (issue #23): the history rows of a revert name the revision it went
-- back to; NULL for every other change.
ALTER TABLE changes ADD COLUMN revert_of BIGINT;
