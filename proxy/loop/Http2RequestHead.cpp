#include "loop/Http2RequestHead.h"

namespace portico {

void Http2RequestHead::add(std::string_view name, std::string_view value) {
  // RFC 9113 6.5.2: each field counts its name, its value and 32 bytes of overhead.
  listBytes_ += name.size() + value.size() + 32;
  if (tooLarge()) {
    regular_.clear();  // refused anyway: keep no more than the limit in memory
    cookies_.clear();
    return;
  }
  if (name == ":method") {
    method_ = value;
  } else if (name == ":path") {
    path_ = value;
  } else if (name == ":authority") {
    authority_ = value;
  } else if (!name.empty() && name.front() == ':') {
    // :scheme, :protocol: nothing the upstream request carries.
  } else if (name == "cookie") {
    if (!cookies_.empty()) cookies_ += "; ";
    cookies_.append(value);
  } else {
    if (name == "host") hasHost_ = true;
    if (name == "content-length") hasLength_ = true;
    regular_.emplace_back(std::string(name), std::string(value));
  }
}

void Http2RequestHead::finish(bool endStream) {
  head_.setMethod(head_.own(method_));
  head_.setTarget(head_.own(path_));
  head_.setVersion(1, 1);
  if (tooLarge()) return;
  if (!hasHost_ && !authority_.empty()) head_.addOwned("Host", authority_);
  for (const auto& [n, v] : regular_) head_.addOwned(n, v);
  if (!cookies_.empty()) head_.addOwned("Cookie", cookies_);
  if (!endStream && !hasLength_) head_.addOwned("Transfer-Encoding", "chunked");
  regular_.clear();
}

}  // namespace portico
