#include "MessageFraming.h"

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <optional>
#include <string_view>
#include <utility>

#include "HeaderFilter.h"

namespace portico {
namespace {

using Poco::Net::HTTPResponse;

/// Calls `f` with every comma-separated item of every `name` header; false when there is none.
template <class F>
bool forEachItem(const Poco::Net::HTTPMessage& message, const std::string& name, F&& f) {
  bool present = false;
  for (auto it = message.find(name); it != message.end() && sameHeaderName(it->first, name); ++it) {
    present = true;
    HeaderFilter::forEachListItem(it->second, f);
  }
  return present;
}

/// What the Transfer-Encoding headers list: how many codings, the first and the last.
struct Codings {
  bool present{false};
  std::size_t count{0};
  std::string_view first;
  std::string_view last;

  explicit Codings(const Poco::Net::HTTPMessage& message) {
    present = forEachItem(message, Poco::Net::HTTPMessage::TRANSFER_ENCODING,
                          [this](std::string_view coding) {
                            if (count++ == 0) first = coding;
                            last = coding;
                          });
  }
  /// Exactly one coding, `name` (any case).
  bool only(std::string_view name) const { return count == 1 && sameHeaderName(first, name); }
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
std::pair<bool, std::optional<std::uint64_t>> contentLength(const Poco::Net::HTTPMessage& message) {
  std::optional<std::uint64_t> length;
  bool valid = true;
  const bool present =
      forEachItem(message, Poco::Net::HTTPMessage::CONTENT_LENGTH, [&](std::string_view item) {
        const auto n = digits(item);
        if (!n || (length && *length != *n)) valid = false;
        length = n;
      });
  if (present && !valid) length.reset();
  return {present, length};
}

}  // namespace

MessageFraming MessageFraming::ofRequest(const Poco::Net::HTTPRequest& request) {
  const Codings codings(request);
  const auto [hasLength, length] = contentLength(request);
  MessageFraming out;
  if (codings.present) {
    if (request.getVersion() == Poco::Net::HTTPMessage::HTTP_1_0)
      throw FramingRefused(HTTPResponse::HTTP_BAD_REQUEST,
                           "Transfer-Encoding is not allowed in an HTTP/1.0 request");
    if (hasLength)
      throw FramingRefused(HTTPResponse::HTTP_BAD_REQUEST,
                           "a request may not carry both Content-Length and Transfer-Encoding");
    if (codings.count == 0 || !sameHeaderName(codings.last, "chunked"))
      throw FramingRefused(HTTPResponse::HTTP_BAD_REQUEST,
                           "Transfer-Encoding of a request must end in chunked");
    if (codings.count > 1)
      throw FramingRefused(HTTPResponse::HTTP_NOT_IMPLEMENTED,
                           "unsupported transfer coding '" + std::string(codings.first) + "'");
    out.framing = BodyReader::Framing::Chunked;
    return out;
  }
  if (hasLength) {
    if (!length)
      throw FramingRefused(HTTPResponse::HTTP_BAD_REQUEST, "invalid or conflicting Content-Length");
    out.length = *length;
    out.framing = out.length > 0 ? BodyReader::Framing::Length : BodyReader::Framing::Empty;
  }
  return out;
}

MessageFraming MessageFraming::ofResponse(const Poco::Net::HTTPResponse& response, bool bodyless) {
  MessageFraming out;
  if (bodyless) return out;
  const Codings codings(response);
  if (codings.present) {
    if (codings.only("chunked")) {
      out.framing = BodyReader::Framing::Chunked;
      return out;
    }
    // RFC 9112 6.3: without a final chunked, the body runs until the target closes. Any coding
    // but the obsolete "identity" would reach the client undeclared (the header is hop-by-hop).
    if (codings.count == 0 || codings.only("identity")) {
      out.framing = BodyReader::Framing::UntilClose;
      return out;
    }
    throw FramingRefused(
        HTTPResponse::HTTP_BAD_GATEWAY,
        "target sent an unsupported transfer coding '" + std::string(codings.first) + "'");
  }
  const auto [hasLength, length] = contentLength(response);
  if (!hasLength) {
    out.framing = BodyReader::Framing::UntilClose;
    return out;
  }
  if (!length)
    throw FramingRefused(HTTPResponse::HTTP_BAD_GATEWAY,
                         "target sent an invalid or conflicting Content-Length");
  out.length = *length;
  out.framing = BodyReader::Framing::Length;
  return out;
}

std::optional<std::uint64_t> MessageFraming::announcedLength(
    const Poco::Net::HTTPMessage& message) {
  return contentLength(message).second;
}

}  // namespace portico
