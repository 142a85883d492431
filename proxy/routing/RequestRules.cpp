#include "routing/RequestRules.h"

#include <algorithm>
#include <cctype>

#include "routing/RoutePath.h"

namespace portico {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void addLine(HeaderRules& rules, const std::string& name, const std::string& value) {
  rules.lines.append(name).append(": ").append(value).append("\r\n");
  rules.added.emplace_back(name, value);
}

}  // namespace

HeaderRules HeaderRules::of(const HeaderEdits& edits) {
  HeaderRules rules;
  for (const auto& name : edits.remove) rules.dropped.push_back(lower(name));
  for (const auto& [name, value] : edits.set) {
    rules.dropped.push_back(lower(name));
    addLine(rules, name, value);
  }
  for (const auto& [name, value] : edits.add) addLine(rules, name, value);
  std::sort(rules.dropped.begin(), rules.dropped.end());
  rules.dropped.erase(std::unique(rules.dropped.begin(), rules.dropped.end()), rules.dropped.end());
  return rules;
}

bool HeaderRules::drops(std::string_view name) const {
  for (const auto& d : dropped) {
    if (d.size() == name.size() &&
        std::equal(d.begin(), d.end(), name.begin(), [](char lowered, char c) {
          return lowered == std::tolower(static_cast<unsigned char>(c));
        }))
      return true;
  }
  return false;
}

RequestRules RequestRules::of(const RequestPolicy& policy, std::string_view prefix) {
  RequestRules rules;
  if (!policy.stripPrefix) {
    rules.replacement = std::string(RoutePath::key(prefix));
  } else if (!policy.rewritePrefix.empty()) {
    rules.replacement = std::string(RoutePath::key(policy.rewritePrefix));
  }
  rules.preserveHost = policy.preserveHost;
  rules.request = HeaderRules::of(policy.requestHeaders);
  rules.response = HeaderRules::of(policy.responseHeaders);
  rules.connectTimeout = policy.timeouts.connect;
  rules.readTimeout = policy.timeouts.read;
  rules.sendTimeout = policy.timeouts.send;
  rules.maxBodySize = policy.maxBodySize;
  return rules;
}

}  // namespace portico
