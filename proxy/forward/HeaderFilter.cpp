#include "forward/HeaderFilter.h"

#include <algorithm>

namespace portico {
HeaderFilter::HeaderFilter(const http::HttpHead& message,
                           const std::vector<http::KnownHeader>* alsoDropped)
    : message_(message), alsoDropped_(alsoDropped) {
  message.forEach(http::KnownHeader::Connection, [this](std::string_view value) {
    http::forEachListItem(value, [this](std::string_view token) {
      if (listedCount_ < kInline) {
        listed_[listedCount_++] = token;
      } else {
        moreListed_.push_back(token);
      }
    });
  });
}

bool HeaderFilter::isHopByHop(std::string_view name) {
  return isHopByHop(http::classifyHeader(name));
}

bool HeaderFilter::isHopByHop(http::KnownHeader known) {
  using K = http::KnownHeader;
  switch (known) {
    case K::Connection:
    case K::KeepAlive:
    case K::Te:
    case K::Trailer:
    case K::TransferEncoding:
    case K::Upgrade:
    case K::ProxyAny:
      return true;
    default:
      return false;
  }
}

std::vector<std::string> HeaderFilter::connectionTokens(std::string_view value) {
  std::vector<std::string> tokens;
  http::forEachListItem(value, [&tokens](std::string_view item) {
    std::string token(item);
    std::transform(token.begin(), token.end(), token.begin(), [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    tokens.push_back(std::move(token));
  });
  return tokens;
}

bool HeaderFilter::listsToken(const http::HttpHead& message, std::string_view token) {
  bool found = false;
  message.forEach(http::KnownHeader::Connection, [&](std::string_view value) {
    http::forEachListItem(value, [&](std::string_view item) {
      if (http::equalsNoCase(item, token)) found = true;
    });
  });
  return found;
}

bool HeaderFilter::forwards(std::string_view name) const {
  return forwards(http::classifyHeader(name), name);
}

bool HeaderFilter::forwards(http::KnownHeader known, std::string_view name) const {
  if (isHopByHop(known)) return false;
  for (std::size_t i = 0; i < listedCount_; ++i) {
    if (http::equalsNoCase(name, listed_[i])) return false;
  }
  for (const auto l : moreListed_) {
    if (http::equalsNoCase(name, l)) return false;
  }
  if (alsoDropped_ && known != http::KnownHeader::Other) {
    for (const auto d : *alsoDropped_) {
      if (known == d) return false;
    }
  }
  return true;
}

}  // namespace portico
