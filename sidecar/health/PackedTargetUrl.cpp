#include "health/PackedTargetUrl.h"

#include <cassert>
#include <stdexcept>

namespace portico {

PackedTargetUrl::PackedTargetUrl(const TargetUrl& url)
    : canonical_(url.canonical), port_(url.port), tls_(url.tls) {
  // The canonical form is scheme "://" host-or-[host] [":" port] basePath (parseTargetUrl).
  const auto at = canonical_.find(url.host, canonical_.find("://") + 3);
  if (at == std::string::npos || canonical_.size() > 0xffff ||
      canonical_.size() < url.basePath.size() ||
      canonical_.compare(canonical_.size() - url.basePath.size(), url.basePath.size(),
                         url.basePath) != 0)
    throw std::invalid_argument("not a canonical target URL: " + canonical_);
  hostAt_ = static_cast<std::uint16_t>(at);
  hostLength_ = static_cast<std::uint16_t>(url.host.size());
  basePathLength_ = static_cast<std::uint16_t>(url.basePath.size());
}

TargetUrl PackedTargetUrl::unpack() const {
  TargetUrl url;
  url.host = canonical_.substr(hostAt_, hostLength_);
  url.port = port_;
  url.basePath = canonical_.substr(canonical_.size() - basePathLength_);
  url.canonical = canonical_;
  url.tls = tls_;
  return url;
}

}  // namespace portico
