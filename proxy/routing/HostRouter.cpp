#include "routing/HostRouter.h"

#include "routing/RouteTable.h"

namespace portico {
namespace {

constexpr std::string_view kWildcard = "*.";

bool isWildcard(std::string_view host) {
  return host.substr(0, kWildcard.size()) == kWildcard;
}

}  // namespace

void HostRouter::add(const Route* route) {
  const std::string_view host = route->host;
  if (host.empty()) {
    any_.add(route);
  } else if (isWildcard(host)) {
    wildcard_[host.substr(kWildcard.size())].add(route);
  } else {
    exact_[host].add(route);
  }
}

const Route* HostRouter::match(std::string_view host, std::string_view path) const {
  if (!host.empty()) {
    if (!exact_.empty()) {
      const auto it = exact_.find(host);
      if (it != exact_.end())
        if (const Route* r = it->second.longest(path)) return r;
    }
    // "*.example.com" covers one or more labels in front of example.com, never example.com
    // itself: only the suffixes after a dot of the host are looked up, longest first.
    if (!wildcard_.empty()) {
      for (auto dot = host.find('.'); dot != std::string_view::npos;
           dot = host.find('.', dot + 1)) {
        const auto it = wildcard_.find(host.substr(dot + 1));
        if (it != wildcard_.end())
          if (const Route* r = it->second.longest(path)) return r;
      }
    }
  }
  return any_.longest(path);
}

const Route* HostRouter::find(std::string_view host, std::string_view prefix) const {
  if (host.empty()) return any_.find(prefix);
  const bool wild = isWildcard(host);
  const auto& group = wild ? wildcard_ : exact_;
  const auto it = group.find(wild ? host.substr(kWildcard.size()) : host);
  return it == group.end() ? nullptr : it->second.find(prefix);
}

}  // namespace portico
