#include "HttpHead.h"

namespace portico::http {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

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
  for (const auto& field : fields_) {
    if (equalsNoCase(view(field.name), name)) {
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
  std::size_t n = 0;
  for (const auto& field : fields_)
    if (equalsNoCase(view(field.name), name)) ++n;
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
  fields_.push_back({n, v});
}

}  // namespace portico::http
