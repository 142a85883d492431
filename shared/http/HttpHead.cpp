#include "http/HttpHead.h"

namespace portico::http {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

KnownHeader classifyHeader(std::string_view name) {
  using K = KnownHeader;
  if (name.size() < 2) return K::Other;
  switch (name.size()) {
    case 2:
      return equalsNoCase(name, "te") ? K::Te : K::Other;
    case 4:
      if (equalsNoCase(name, "host")) return K::Host;
      if (equalsNoCase(name, "date")) return K::Date;
      break;
    case 6:
      if (equalsNoCase(name, "expect")) return K::Expect;
      if (equalsNoCase(name, "server")) return K::Server;
      break;
    case 7:
      if (equalsNoCase(name, "upgrade")) return K::Upgrade;
      if (equalsNoCase(name, "trailer")) return K::Trailer;
      break;
    case 10:
      if (equalsNoCase(name, "connection")) return K::Connection;
      if (equalsNoCase(name, "keep-alive")) return K::KeepAlive;
      break;
    case 12:
      if (equalsNoCase(name, "x-request-id")) return K::XRequestId;
      break;
    case 13:
      if (equalsNoCase(name, "x-origin-host")) return K::XOriginHost;
      break;
    case 14:
      if (equalsNoCase(name, "content-length")) return K::ContentLength;
      break;
    case 15:
      if (equalsNoCase(name, "x-forwarded-for")) return K::XForwardedFor;
      break;
    case 16:
      if (equalsNoCase(name, "x-forwarded-host")) return K::XForwardedHost;
      break;
    case 17:
      if (equalsNoCase(name, "transfer-encoding")) return K::TransferEncoding;
      if (equalsNoCase(name, "x-forwarded-proto")) return K::XForwardedProto;
      break;
    default:
      break;
  }
  if (name.size() >= 6 && equalsNoCase(name.substr(0, 6), "proxy-")) return K::ProxyAny;
  return K::Other;
}

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

void HttpHead::clear() {
  base_ = nullptr;
  method_ = target_ = reason_ = Span{};
  status_ = 0;
  major_ = minor_ = 1;
  fields_.clear();
  owned_.clear();
}

bool HttpHead::find(std::string_view name, std::string_view& value) const {
  const KnownHeader k = classifyHeader(name);
  for (const auto& field : fields_) {
    if (matches(field, k, name)) {
      value = view(field.value);
      return true;
    }
  }
  return false;
}

std::string_view HttpHead::get(std::string_view name, std::string_view fallback) const {
  std::string_view v;
  return find(name, v) ? v : fallback;
}

bool HttpHead::has(std::string_view name) const {
  std::string_view ignored;
  return find(name, ignored);
}

std::size_t HttpHead::count(std::string_view name) const {
  const KnownHeader k = classifyHeader(name);
  std::size_t n = 0;
  for (const auto& field : fields_)
    if (matches(field, k, name)) ++n;
  return n;
}

HttpHead::Span HttpHead::own(std::string_view text) {
  const Span span{static_cast<std::uint32_t>(owned_.size()),
                  static_cast<std::uint32_t>(text.size())};
  owned_.append(text);
  base_ = owned_.data();
  return span;
}

void HttpHead::detach(std::size_t offset, std::size_t length) {
  if (!base_ || base_ == owned_.data()) return;
  owned_.assign(base_ + offset, length);
  const auto shift = static_cast<std::uint32_t>(offset);
  auto move = [shift](Span& s) {
    if (s.length > 0) s.offset -= shift;
  };
  move(method_);
  move(target_);
  move(reason_);
  for (auto& f : fields_) {
    move(f.name);
    move(f.value);
  }
  base_ = owned_.data();
}

void HttpHead::addOwned(std::string_view name, std::string_view value) {
  const Span n = own(name);
  const Span v = own(value);
  fields_.push_back({n, v, classifyHeader(name)});
}

}  // namespace portico::http
