#include "http/MessageFraming.h"

#include <string_view>
#include <utility>

namespace portico::http {
namespace {

/// Calls `f` with every comma-separated item of every `name` header; false when there is none.
template <class F>
bool forEachItem(const HttpHead& message, KnownHeader name, F&& f) {
  bool present = false;
  message.forEach(name, [&](std::string_view value) {
    present = true;
    forEachListItem(value, f);
  });
  return present;
}

/// What the Transfer-Encoding headers list: how many codings, the first and the last.
struct Codings {
  bool present{false};
  std::size_t count{0};
  std::string_view first;
  std::string_view last;

  explicit Codings(const HttpHead& message) {
    present = forEachItem(message, KnownHeader::TransferEncoding, [this](std::string_view coding) {
      if (count++ == 0) first = coding;
      last = coding;
    });
  }
  /// Exactly one coding, `name` (any case).
  bool only(std::string_view name) const { return count == 1 && equalsNoCase(first, name); }
};

/// A Content-Length value: 1 to 18 digits (no sign, no spaces inside), else nothing.
std::optional<std::uint64_t> digits(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::uint64_t n = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

/// Whether `message` has Content-Length headers and, if so, the one length all their items
/// agree on (nullopt when one is malformed or they disagree).
std::pair<bool, std::optional<std::uint64_t>> contentLength(const HttpHead& message) {
  std::optional<std::uint64_t> length;
  bool valid = true;
  const bool present = forEachItem(message, KnownHeader::ContentLength, [&](std::string_view item) {
    const auto n = digits(item);
    if (!n || (length && *length != *n)) valid = false;
    length = n;
  });
  if (present && !valid) length.reset();
  return {present, length};
}

MessageFraming refuse(int status, std::string reason) {
  MessageFraming out;
  out.refusal = status;
  out.reason = std::move(reason);
  return out;
}

}  // namespace

MessageFraming MessageFraming::ofRequest(const HttpHead& request) {
  const Codings codings(request);
  const auto [hasLength, length] = contentLength(request);
  MessageFraming out;
  if (codings.present) {
    if (request.versionMajor() == 1 && request.versionMinor() == 0)
      return refuse(400, "Transfer-Encoding is not allowed in an HTTP/1.0 request");
    if (hasLength)
      return refuse(400, "a request may not carry both Content-Length and Transfer-Encoding");
    if (codings.count == 0 || !equalsNoCase(codings.last, "chunked"))
      return refuse(400, "Transfer-Encoding of a request must end in chunked");
    if (codings.count > 1)
      return refuse(501, "unsupported transfer coding '" + std::string(codings.first) + "'");
    out.framing = BodyFraming::Chunked;
    return out;
  }
  if (hasLength) {
    if (!length) return refuse(400, "invalid or conflicting Content-Length");
    out.length = *length;
    out.framing = out.length > 0 ? BodyFraming::Length : BodyFraming::Empty;
  }
  return out;
}

MessageFraming MessageFraming::ofResponse(const HttpHead& response, bool bodyless) {
  MessageFraming out;
  if (bodyless) return out;
  const Codings codings(response);
  if (codings.present) {
    if (codings.only("chunked")) {
      out.framing = BodyFraming::Chunked;
      return out;
    }
    // RFC 9112 6.3: without a final chunked, the body runs until the target closes. Any coding
    // but the obsolete "identity" would reach the client undeclared (the header is hop-by-hop).
    if (codings.count == 0 || codings.only("identity")) {
      out.framing = BodyFraming::UntilClose;
      return out;
    }
    return refuse(
        502, "target sent an unsupported transfer coding '" + std::string(codings.first) + "'");
  }
  const auto [hasLength, length] = contentLength(response);
  if (!hasLength) {
    out.framing = BodyFraming::UntilClose;
    return out;
  }
  if (!length) return refuse(502, "target sent an invalid or conflicting Content-Length");
  out.length = *length;
  out.framing = BodyFraming::Length;
  return out;
}

std::optional<std::uint64_t> MessageFraming::announcedLength(const HttpHead& message) {
  return contentLength(message).second;
}

}  // namespace portico::http
