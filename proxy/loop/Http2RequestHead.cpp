#include "loop/Http2RequestHead.h"

namespace portico {
namespace {

constexpr std::size_t kKeptBytes = 4096;

}  // namespace

void Http2RequestHead::add(std::string_view name, std::string_view value) {
  // RFC 9113 6.5.2: each field counts its name, its value and 32 bytes of overhead.
  listBytes_ += name.size() + value.size() + 32;
  if (tooLarge()) {
    head_.fields().clear();  // refused anyway: keep no more than the limit in memory
    cookies_.clear();
    return;
  }
  if (name == ":method") {
    method_ = head_.own(value);
  } else if (name == ":path") {
    path_ = head_.own(value);
  } else if (name == ":authority") {
    authority_ = head_.own(value);
  } else if (!name.empty() && name.front() == ':') {
    // :scheme, :protocol: nothing the upstream request carries.
  } else if (name == "cookie") {
    if (!cookies_.empty()) cookies_ += "; ";
    cookies_.append(value);
  } else {
    if (name == "host") hasHost_ = true;
    if (name == "content-length") hasLength_ = true;
    head_.addOwned(name, value);
  }
}

void Http2RequestHead::finish(bool endStream) {
  head_.setMethod(method_);
  head_.setTarget(path_);
  head_.setVersion(1, 1);
  if (tooLarge()) return;
  if (!hasHost_ && authority_.length > 0) {
    // First, where an HTTP/1.1 client puts it (RFC 9112 3.2) and HTTP/2 its :authority.
    auto& fields = head_.fields();
    fields.insert(fields.begin(), {head_.own("Host"), authority_, http::classifyHeader("Host")});
  }
  if (!cookies_.empty()) head_.addOwned("Cookie", cookies_);
  if (!endStream && !hasLength_) head_.addOwned("Transfer-Encoding", "chunked");
}

void Http2RequestHead::clear() {
  // The storage stays for the next request unless this one was large (a connection keeps a few
  // heads, and each must not pin up to max_header_bytes).
  if (listBytes_ > kKeptBytes) {
    head_ = http::HttpHead();
    std::string().swap(cookies_);
  }
  listBytes_ = 0;
  method_ = path_ = authority_ = http::HttpHead::Span{};
  cookies_.clear();
  hasHost_ = hasLength_ = false;
  head_.clear();
}

}  // namespace portico
