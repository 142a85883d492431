#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace portico::net {

/// A few threads that run blocking work (store reads and writes) off an event loop: the loop
/// submits a task and the task posts its result back to the loop. Tasks run in the order they
/// were submitted, each on whichever thread is free.
class WorkerPool {
 public:
  /// Starts `threads` (at least one) threads.
  explicit WorkerPool(std::size_t threads);
  /// stop().
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// From any thread. After stop() the task is dropped.
  void submit(std::function<void()> task);
  /// Drops the tasks that have not started, waits for the running ones and joins the threads.
  void stop();
  /// Tasks submitted and not finished yet (running or waiting).
  std::size_t busy() const;

 private:
  void work();

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  std::size_t running_{0};
  bool stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace portico::net
