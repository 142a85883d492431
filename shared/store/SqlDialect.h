#pragma once

namespace portico {

/// What the SQL written once for both databases (StoreWriter, RouteReads) must say differently
/// on each: SQL fragments, spliced into its statements. Placeholders ($1 vs ?1) and the ids of
/// inserted rows (RETURNING vs last_insert_rowid) are the transaction adapter's (SqlTransaction).
struct SqlDialect {
  /// The current time as store text, "2024-05-01T12:00:00.123Z" (ISO-8601 UTC, milliseconds).
  const char* now;
  /// The lease clock: milliseconds since the Unix epoch, on the store's machine.
  const char* nowMs;
  /// Ends the read of the revision row that opens a change: locks the row until the commit,
  /// where the transaction does not hold the store's write lock already.
  const char* lockRevision;
  /// True for a row whose `id` is among the comma-separated ids bound as $1 ("4,7,12").
  const char* idAmongParam1;
  /// Follows a text column to compare and sort it byte by byte (SQLite's own order), whatever
  /// the database's collation.
  const char* byteOrder;
};

}  // namespace portico
