#include "HeaderFilter.h"

#include <algorithm>

namespace portico {
namespace {

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && http::equalsNoCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace

HeaderFilter::HeaderFilter(const http::HttpHead& message,
                           const std::vector<std::string_view>* alsoDropped)
    : message_(message), alsoDropped_(alsoDropped) {
  message.forEach("Connection", [this](std::string_view value) {
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
  static constexpr std::string_view kNames[] = {"connection", "keep-alive",        "te",
                                                "trailer",    "transfer-encoding", "upgrade"};
  for (const auto n : kNames) {
    if (http::equalsNoCase(name, n)) return true;
  }
  return startsWithNoCase(name, "proxy-");
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
  message.forEach("Connection", [&](std::string_view value) {
    http::forEachListItem(value, [&](std::string_view item) {
      if (http::equalsNoCase(item, token)) found = true;
    });
  });
  return found;
}

bool HeaderFilter::forwards(std::string_view name) const {
  if (isHopByHop(name)) return false;
  for (std::size_t i = 0; i < listedCount_; ++i) {
    if (http::equalsNoCase(name, listed_[i])) return false;
  }
  for (const auto l : moreListed_) {
    if (http::equalsNoCase(name, l)) return false;
  }
  if (alsoDropped_) {
    for (const auto d : *alsoDropped_) {
      if (http::equalsNoCase(name, d)) return false;
    }
  }
  return true;
}

}  // namespace portico
