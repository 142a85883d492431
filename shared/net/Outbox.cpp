#include "net/Outbox.h"

#include <algorithm>

#include "net/Stream.h"

namespace portico::net {

std::size_t Outbox::pending() const {
  std::size_t n = 0;
  for (int i = 0; i < count_; ++i) n += pieces_[i].size;
  return n;
}

void Outbox::append(std::string_view bytes) {
  if (bytes.empty()) return;
  if (count_ > 0 && pieces_[count_ - 1].data == nullptr &&
      pieces_[count_ - 1].offset + pieces_[count_ - 1].size == owned_.size()) {
    pieces_[count_ - 1].size += bytes.size();  // grows the last owned piece
  } else {
    if (count_ == kMaxPieces) keepRest(0);
    pieces_[count_++] = {nullptr, owned_.size(), bytes.size()};
  }
  owned_.append(bytes);
}

void Outbox::reference(std::string_view bytes) {
  if (bytes.empty()) return;
  if (count_ == kMaxPieces) keepRest(0);
  pieces_[count_++] = {bytes.data(), 0, bytes.size()};
  referenced_ += bytes.size();
}

Io Outbox::flush(Stream& stream) {
  while (count_ > 0) {
    iovec iov[kMaxPieces];
    for (int i = 0; i < count_; ++i) {
      const Piece& p = pieces_[i];
      iov[i].iov_base = const_cast<char*>(p.data ? p.data : owned_.data() + p.offset);
      iov[i].iov_len = p.size;
    }
    std::size_t written = 0;
    const Io io = stream.write(iov, count_, written);
    if (io == Io::Failed || io == Io::Closed) return io;
    if (io == Io::Again) {
      keepRest(0);
      return Io::Again;
    }
    const std::size_t total = pending();
    if (written == total) {
      clear();
      return Io::Ok;
    }
    keepRest(written);
  }
  return Io::Ok;
}

void Outbox::keepRest(std::size_t written) {
  // Copies what is still to be written, referenced pieces included, into one owned piece.
  std::string rest;
  rest.reserve(pending() - written);
  for (int i = 0; i < count_; ++i) {
    const Piece& p = pieces_[i];
    const char* data = p.data ? p.data : owned_.data() + p.offset;
    std::size_t size = p.size;
    const std::size_t skip = std::min(written, size);
    written -= skip;
    rest.append(data + skip, size - skip);
  }
  owned_.swap(rest);
  start_ = 0;
  referenced_ = 0;
  count_ = owned_.empty() ? 0 : 1;
  if (count_ == 1) pieces_[0] = {nullptr, 0, owned_.size()};
}

void Outbox::clear() {
  count_ = 0;
  start_ = 0;
  referenced_ = 0;
  if (owned_.capacity() > 4096) {
    std::string().swap(owned_);
  } else {
    owned_.clear();
  }
}

}  // namespace portico::net
