#include "loop/Http2FieldList.h"

namespace portico {
namespace {

constexpr std::size_t kKeptBytes = 4096;

}  // namespace

void Http2FieldList::clear() {
  // Kept for the next list unless a large one grew it (a connection keeps a few lists).
  if (bytes_.capacity() > kKeptBytes) {
    std::string().swap(bytes_);
    std::vector<Span>().swap(spans_);
    std::vector<nghttp2_nv>().swap(nva_);
  }
  bytes_.clear();
  spans_.clear();
  nva_.clear();
}

std::size_t Http2FieldList::append(std::string_view name, std::string_view value) {
  const std::size_t at = bytes_.size();
  bytes_.append(name).append(value);
  spans_.push_back({at, name.size(), value.size()});
  return at;
}

void Http2FieldList::add(std::string_view name, std::string_view value) {
  append(name, value);
}

void Http2FieldList::addLowercased(std::string_view name, std::string_view value) {
  const std::size_t at = append(name, value);
  for (std::size_t i = at; i < at + name.size(); ++i) {
    const char c = bytes_[i];
    if (c >= 'A' && c <= 'Z') bytes_[i] = static_cast<char>(c - 'A' + 'a');
  }
}

std::string_view Http2FieldList::name(std::size_t i) const {
  return std::string_view(bytes_).substr(spans_[i].name, spans_[i].nameLength);
}

std::string_view Http2FieldList::value(std::size_t i) const {
  return std::string_view(bytes_).substr(spans_[i].name + spans_[i].nameLength,
                                         spans_[i].valueLength);
}

const nghttp2_nv* Http2FieldList::nva() {
  // Pointers only now that the bytes no longer move.
  nva_.clear();
  auto* base = reinterpret_cast<std::uint8_t*>(bytes_.data());
  for (const Span& s : spans_)
    nva_.push_back({base + s.name, base + s.name + s.nameLength, s.nameLength, s.valueLength,
                    NGHTTP2_NV_FLAG_NONE});
  return nva_.data();
}

}  // namespace portico
