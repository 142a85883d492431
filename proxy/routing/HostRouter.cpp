#include "routing/HostRouter.h"

#include <algorithm>

#include "routing/RouteTable.h"

namespace portico {
namespace {

constexpr std::string_view kWildcard = "*.";

bool isWildcard(std::string_view host) {
  return host.substr(0, kWildcard.size()) == kWildcard;
}

}  // namespace

HostRouter::HostRouter(const std::vector<std::shared_ptr<const Route>>& routes) {
  std::size_t size = 0;
  for (const auto& r : routes) size += r->host.size() + r->prefix.size();
  text_ = std::make_unique<char[]>(size);
  char* end = text_.get();
  const auto copy = [&end](const std::string& s) {
    const std::string_view view(end, s.size());
    end = std::copy(s.begin(), s.end(), end);
    return view;
  };
  any_.reserve(routes.size());
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const std::string_view host = copy(routes[i]->host);
    add(host, copy(routes[i]->prefix), static_cast<std::uint32_t>(i));
  }
}

void HostRouter::add(std::string_view host, std::string_view prefix, std::uint32_t position) {
  if (host.empty()) {
    any_.add(prefix, position);
  } else if (isWildcard(host)) {
    wildcard_[host.substr(kWildcard.size())].add(prefix, position);
  } else {
    exact_[host].add(prefix, position);
  }
}

std::size_t HostRouter::match(std::string_view host, std::string_view path) const {
  if (!host.empty()) {
    if (!exact_.empty()) {
      const auto it = exact_.find(host);
      if (it != exact_.end()) {
        const std::size_t r = it->second.longest(path);
        if (r != npos) return r;
      }
    }
    // "*.example.com" covers one or more labels in front of example.com, never example.com
    // itself: only the suffixes after a dot of the host are looked up, longest first.
    if (!wildcard_.empty()) {
      for (auto dot = host.find('.'); dot != std::string_view::npos;
           dot = host.find('.', dot + 1)) {
        const auto it = wildcard_.find(host.substr(dot + 1));
        if (it == wildcard_.end()) continue;
        const std::size_t r = it->second.longest(path);
        if (r != npos) return r;
      }
    }
  }
  return any_.longest(path);
}

std::size_t HostRouter::find(std::string_view host, std::string_view prefix) const {
  if (host.empty()) return any_.find(prefix);
  const bool wild = isWildcard(host);
  const auto& group = wild ? wildcard_ : exact_;
  const auto it = group.find(wild ? host.substr(kWildcard.size()) : host);
  return it == group.end() ? npos : it->second.find(prefix);
}

}  // namespace portico
