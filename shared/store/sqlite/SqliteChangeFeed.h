#pragma once

#include <chrono>
#include <string>

#include "store/ChangeFeed.h"
#include "store/FeedWake.h"

namespace portico {

/// Announces the commits of an SQLite store to its follower (the proxy's reloader) as they
/// happen, where polling made every change wait for the next poll: inotify on the store's
/// directory, for writes to the store file and its write-ahead log (a commit appends to the
/// log, a checkpoint writes the file). Any write counts, also those that leave the revision
/// alone (check stamps, heartbeats): the follower then reads the revision, one cheap query.
/// Until the directory exists, and where inotify is refused (no watches left), waits last
/// their timeout: polling as before.
class SqliteChangeFeed final : public ChangeFeed {
 public:
  /// `path`: the store file.
  explicit SqliteChangeFeed(const std::string& path);
  ~SqliteChangeFeed() override;
  SqliteChangeFeed(const SqliteChangeFeed&) = delete;
  SqliteChangeFeed& operator=(const SqliteChangeFeed&) = delete;

  bool wait(std::chrono::milliseconds timeout) override;
  bool pause(std::chrono::steady_clock::time_point until) override;
  void interrupt() override;

 private:
  void watch();  // adds the directory's watch once it exists
  bool drain();  // reads the pending events; true if one was about the store's files

  std::string directory_;
  std::string name_;  // the store file's name; its log is name_ + "-wal"
  int inotifyFd_{-1};
  FeedWake wake_;
  bool watching_{false};
};

}  // namespace portico
