#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "net/Socket.h"

namespace portico::net {

class Stream;

/// The bytes waiting to go out on one connection. Small pieces (heads, chunk sizes) are copied;
/// large ones (body bytes still in the input buffer they arrived in) are only referenced, and
/// flush() hands all of them to one writev. Only what a blocked write leaves behind is copied,
/// so the common case — the peer takes everything at once — costs no copy of the body.
class Outbox {
 public:
  /// Copies `bytes`.
  void append(std::string_view bytes);
  /// References `bytes`: they must stay put until the next flush() returns.
  void reference(std::string_view bytes);
  /// Writes as much as the socket takes. Ok: everything went; Again: the rest is kept (copied)
  /// for the next flush; Failed/Closed: the peer is gone.
  Io flush(Stream& stream);

  bool empty() const { return pending() == 0; }
  std::size_t pending() const;
  /// Drops everything and releases memory beyond a small reserve.
  void clear();

 private:
  struct Piece {
    const char* data;  // null: `offset` into owned_
    std::size_t offset;
    std::size_t size;
  };
  static constexpr int kMaxPieces = 32;

  void keepRest(std::size_t written);

  Piece pieces_[kMaxPieces];
  int count_{0};
  std::string owned_;  // copied bytes; owned_[start_..] are not written yet
  std::size_t start_{0};
  std::size_t referenced_{0};
};

}  // namespace portico::net
