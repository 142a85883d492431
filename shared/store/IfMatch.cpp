#include "store/IfMatch.h"

#include <algorithm>
#include <cctype>

#include "base/Errors.h"

namespace portico {
namespace {

bool space(char c) {
  return c == ' ' || c == '\t';
}

}  // namespace

IfMatch IfMatch::parse(std::string_view header) {
  IfMatch out;
  out.text_ = std::string(header);
  auto bad = [&](const std::string& why) {
    return InvalidInput("If-Match '" + out.text_ + "': " + why +
                        " (give the ETag of an earlier answer, quotes included: \"12\")");
  };
  std::size_t i = 0;
  auto skipSpace = [&] {
    while (i < header.size() && space(header[i])) ++i;
  };
  skipSpace();
  if (i < header.size() && header[i] == '*') {
    ++i;
    skipSpace();
    if (i != header.size()) throw bad("'*' must stand alone");
    return out;
  }
  out.constrains_ = true;
  bool any = false;
  while (i < header.size()) {
    skipSpace();
    if (i < header.size() &&
        header[i] == ',') {  // empty list elements are allowed (RFC 9110 5.6.1)
      ++i;
      continue;
    }
    if (i == header.size()) break;
    bool weak = false;
    if (header.compare(i, 2, "W/") == 0) {
      weak = true;
      i += 2;
    }
    if (i >= header.size() || header[i] != '"') throw bad("an entity tag must be quoted");
    const std::size_t close = header.find('"', i + 1);
    if (close == std::string_view::npos) throw bad("unterminated entity tag");
    const std::string_view tag = header.substr(i + 1, close - i - 1);
    for (const char c : tag) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x21 || u == 0x7f) throw bad("entity tags hold no spaces or control characters");
    }
    i = close + 1;
    skipSpace();
    if (i < header.size() && header[i] != ',') throw bad("entity tags are separated by commas");
    any = true;
    const bool numeric =
        !tag.empty() && tag.size() <= 18 && std::all_of(tag.begin(), tag.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        });
    if (!weak && numeric) out.revisions_.push_back(std::stoll(std::string(tag)));
  }
  if (!any) throw bad("no entity tag");
  return out;
}

bool IfMatch::matches(std::int64_t revision) const {
  if (!constrains_) return true;
  return std::find(revisions_.begin(), revisions_.end(), revision) != revisions_.end();
}

}  // namespace portico
