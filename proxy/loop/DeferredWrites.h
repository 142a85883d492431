#pragma once

#include "net/IntrusiveList.h"

namespace portico {

/// Connections whose output waits for the end of the current batch of events. An HTTP/2
/// connection carries many streams, and their targets answer in separate events of one batch:
/// written at once, each answer costs a TLS record and a write(2) of its own (the largest item
/// of the h2 profile, issue 21); deferred, the connection writes everything the batch produced
/// in one go. Linking and unlinking never allocate, and a writer destroyed while listed leaves
/// the list by itself.
class DeferredWrites {
 public:
  /// What is written at the end of the batch.
  class Writer {
   public:
    Writer() = default;
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    /// Writes what was deferred; may defer again (it runs once more in the same flush).
    virtual void writeDeferred() = 0;

   protected:
    ~Writer() = default;

   private:
    friend class DeferredWrites;
    net::ListNode node_;
  };

  DeferredWrites() = default;
  DeferredWrites(const DeferredWrites&) = delete;
  DeferredWrites& operator=(const DeferredWrites&) = delete;

  /// Once per writer however often it is asked: the writer runs at the next flush().
  void add(Writer& writer) {
    if (!writer.node_.linked()) list_.pushBack(writer.node_);
  }
  /// The writer wrote already (or closed): the flush skips it.
  static void cancel(Writer& writer) { writer.node_.unlink(); }
  static bool pending(const Writer& writer) { return writer.node_.linked(); }
  bool empty() const { return list_.empty(); }

  /// Runs every writer added, including those added while flushing.
  void flush() {
    while (net::ListNode* node = list_.front()) {
      node->unlink();
      net::owner<Writer, &Writer::node_>(node)->writeDeferred();
    }
  }

 private:
  net::IntrusiveList list_;
};

}  // namespace portico
