#include "HeaderFilter.h"

#include <Poco/Net/NameValueCollection.h>

#include <algorithm>

namespace portico {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && sameHeaderName(s.substr(0, prefix.size()), prefix);
}

}  // namespace

bool sameHeaderName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

HeaderFilter::HeaderFilter(const Poco::Net::NameValueCollection& message,
                           const std::vector<std::string_view>* alsoDropped)
    : alsoDropped_(alsoDropped) {
  for (auto it = message.find("Connection");
       it != message.end() && sameHeaderName(it->first, "Connection"); ++it) {
    for (auto& token : connectionTokens(it->second)) listed_.push_back(std::move(token));
  }
}

bool HeaderFilter::isHopByHop(std::string_view name) {
  static constexpr std::string_view kNames[] = {"connection", "keep-alive",        "te",
                                                "trailer",    "transfer-encoding", "upgrade"};
  for (const auto n : kNames) {
    if (sameHeaderName(name, n)) return true;
  }
  return startsWithNoCase(name, "proxy-");
}

std::vector<std::string> HeaderFilter::connectionTokens(std::string_view value) {
  std::vector<std::string> tokens;
  forEachListItem(value, [&tokens](std::string_view item) {
    std::string token(item);
    std::transform(token.begin(), token.end(), token.begin(), lower);
    tokens.push_back(std::move(token));
  });
  return tokens;
}

bool HeaderFilter::forwards(std::string_view name) const {
  if (isHopByHop(name)) return false;
  for (const auto& l : listed_) {
    if (sameHeaderName(name, l)) return false;
  }
  if (alsoDropped_) {
    for (const auto d : *alsoDropped_) {
      if (sameHeaderName(name, d)) return false;
    }
  }
  return true;
}

void HeaderFilter::copy(const Poco::Net::NameValueCollection& from,
                        Poco::Net::NameValueCollection& to) const {
  for (const auto& [name, value] : from) {
    if (forwards(name)) to.add(name, value);
  }
}

}  // namespace portico
