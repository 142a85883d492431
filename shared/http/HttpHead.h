#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace portico::http {

/// ASCII case-insensitive equality (header names, tokens).
bool equalsNoCase(std::string_view a, std::string_view b);

/// The header names the proxy reads or rewrites on every message, recognised once when a head is
/// parsed so that later lookups compare a byte instead of a case-insensitive string.
enum class KnownHeader : std::uint8_t {
  Other,
  Host,
  ContentLength,
  TransferEncoding,
  Connection,
  KeepAlive,
  Te,
  Trailer,
  Upgrade,
  Expect,
  XForwardedFor,
  XForwardedHost,
  XForwardedProto,
  XOriginHost,
  XRequestId,
  Date,
  Server,
  ProxyAny,  // Proxy-Authorization, Proxy-Connection, ...: all hop-by-hop
};

/// Which known header `name` (any case) is; Other for the rest.
KnownHeader classifyHeader(std::string_view name);

/// Calls `f` with each item of a comma-separated header value, trimmed, empty ones skipped, as
/// views into `value` (no allocation: framing headers are read on every request).
template <class F>
void forEachListItem(std::string_view value, F&& f) {
  std::size_t pos = 0;
  while (pos <= value.size()) {
    std::size_t end = value.find(',', pos);
    if (end == std::string_view::npos) end = value.size();
    std::string_view item = value.substr(pos, end - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) f(item);
    pos = end + 1;
  }
}

/// The start line and header fields of one HTTP/1.x message. The bytes usually stay where they
/// were received (the connection's input buffer): fields are kept as offsets from `base()`, so
/// the owner may move its buffer and rebase() instead of copying every header. A head built
/// from other sources (the module path, tests) owns its bytes instead (setOwned()).
class HttpHead {
 public:
  struct Span {
    std::uint32_t offset{0};
    std::uint32_t length{0};
  };
  struct Field {
    Span name;
    Span value;
    KnownHeader known{KnownHeader::Other};
  };

  /// Forgets everything (capacity is kept: one head serves every request of a connection).
  void clear();
  /// Points the spans at a buffer that moved.
  void rebase(const char* base) { base_ = base; }
  const char* base() const { return base_; }

  std::string_view method() const { return view(method_); }
  /// The request target as received (origin-form, absolute-form, "*" or authority).
  std::string_view target() const { return view(target_); }
  std::string_view reason() const { return view(reason_); }
  int status() const { return status_; }
  int versionMajor() const { return major_; }
  int versionMinor() const { return minor_; }
  bool http11() const { return major_ == 1 && minor_ == 1; }

  std::size_t fieldCount() const { return fields_.size(); }
  std::string_view name(std::size_t i) const { return view(fields_[i].name); }
  std::string_view value(std::size_t i) const { return view(fields_[i].value); }
  KnownHeader known(std::size_t i) const { return fields_[i].known; }

  /// Sets `value` to the first value of header `name` (any case); false when there is none.
  bool find(std::string_view name, std::string_view& value) const;
  /// The first value of `name`, or `fallback`.
  std::string_view get(std::string_view name, std::string_view fallback) const;
  bool has(std::string_view name) const;
  std::size_t count(std::string_view name) const;

  // The same lookups by a known name: one byte compared per field.
  bool find(KnownHeader name, std::string_view& value) const {
    for (const auto& field : fields_) {
      if (field.known == name) {
        value = view(field.value);
        return true;
      }
    }
    return false;
  }
  std::string_view get(KnownHeader name, std::string_view fallback) const {
    std::string_view v;
    return find(name, v) ? v : fallback;
  }
  bool has(KnownHeader name) const {
    std::string_view ignored;
    return find(name, ignored);
  }
  std::size_t count(KnownHeader name) const {
    std::size_t n = 0;
    for (const auto& field : fields_) n += field.known == name ? 1 : 0;
    return n;
  }
  template <class F>
  void forEach(KnownHeader name, F&& f) const {
    for (const auto& field : fields_)
      if (field.known == name) f(view(field.value));
  }

  /// Calls f(value) for each header named `name` (any case), in order.
  template <class F>
  void forEach(std::string_view name, F&& f) const {
    const KnownHeader k = classifyHeader(name);
    for (const auto& field : fields_)
      if (matches(field, k, name)) f(view(field.value));
  }

  // Building (the parser and owned heads).
  void setMethod(Span s) { method_ = s; }
  void setTarget(Span s) { target_ = s; }
  void setReason(Span s) { reason_ = s; }
  void setStatus(int s) { status_ = s; }
  void setVersion(int major, int minor) {
    major_ = major;
    minor_ = minor;
  }
  std::vector<Field>& fields() { return fields_; }
  const std::vector<Field>& fields() const { return fields_; }

  /// An owned head (tests, the module path): appends `text` to the head's own storage and
  /// returns its span. The head's base follows its storage.
  Span own(std::string_view text);
  void addOwned(std::string_view name, std::string_view value);
  /// Copies bytes [offset, offset + length) of the current base (which hold every span) into
  /// the head's own storage and points the spans there.
  void detach(std::size_t offset, std::size_t length);

 private:
  bool matches(const Field& field, KnownHeader k, std::string_view name) const {
    if (k != KnownHeader::Other && k != KnownHeader::ProxyAny) return field.known == k;
    return equalsNoCase(view(field.name), name);
  }
  std::string_view view(Span s) const {
    return base_ ? std::string_view(base_ + s.offset, s.length) : std::string_view();
  }

  const char* base_{nullptr};
  Span method_{};
  Span target_{};
  Span reason_{};
  int status_{0};
  int major_{1};
  int minor_{1};
  std::vector<Field> fields_;
  std::string owned_;
};

}  // namespace portico::http
