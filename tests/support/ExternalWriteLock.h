#pragma once

#include <cppunit/extensions/HelperMacros.h>
#include <sqlite3.h>

#include <string>

namespace portico::test {

/// Holds SQLite's write lock on a store from another connection, as an operator's
/// `sqlite3 p.db 'BEGIN IMMEDIATE; ...'` session would, until destroyed. Taking the lock waits
/// out the sidecar's own short writes (health verdicts, lease renewals), as sqlite3's shell with
/// `.timeout` would.
class ExternalWriteLock {
 public:
  explicit ExternalWriteLock(const std::string& db) {
    CPPUNIT_ASSERT_EQUAL(SQLITE_OK,
                         sqlite3_open_v2(db.c_str(), &conn_, SQLITE_OPEN_READWRITE, nullptr));
    sqlite3_busy_timeout(conn_, 5000);
    CPPUNIT_ASSERT_EQUAL(SQLITE_OK,
                         sqlite3_exec(conn_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr));
  }
  ~ExternalWriteLock() {
    sqlite3_exec(conn_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(conn_);
  }
  ExternalWriteLock(const ExternalWriteLock&) = delete;
  ExternalWriteLock& operator=(const ExternalWriteLock&) = delete;

 private:
  sqlite3* conn_{nullptr};
};

}  // namespace portico::test
