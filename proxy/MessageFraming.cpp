#include "MessageFraming.h"

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <optional>
#include <vector>

#include "HeaderFilter.h"

namespace portico {
namespace {

using Poco::Net::HTTPResponse;

/// Every comma-separated item of every `name` header, lower-cased and trimmed.
std::vector<std::string> items(const Poco::Net::HTTPMessage& message, const std::string& name,
                               bool& present) {
  std::vector<std::string> out;
  present = false;
  for (auto it = message.find(name); it != message.end() && sameHeaderName(it->first, name); ++it) {
    present = true;
    for (auto& token : HeaderFilter::connectionTokens(it->second)) out.push_back(std::move(token));
  }
  return out;
}

/// A Content-Length value: 1 to 18 digits (no sign, no spaces inside), else nothing.
std::optional<std::uint64_t> digits(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::uint64_t n = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

/// The one length all Content-Length items agree on; nullopt when one is malformed or they
/// disagree.
std::optional<std::uint64_t> agreedLength(const std::vector<std::string>& lengths) {
  std::optional<std::uint64_t> length;
  for (const auto& item : lengths) {
    const auto n = digits(item);
    if (!n || (length && *length != *n)) return std::nullopt;
    length = n;
  }
  return length;
}

}  // namespace

MessageFraming MessageFraming::ofRequest(const Poco::Net::HTTPRequest& request) {
  bool hasCodings = false;
  bool hasLength = false;
  const auto codings = items(request, Poco::Net::HTTPMessage::TRANSFER_ENCODING, hasCodings);
  const auto lengths = items(request, Poco::Net::HTTPMessage::CONTENT_LENGTH, hasLength);
  MessageFraming out;
  if (hasCodings) {
    if (request.getVersion() == Poco::Net::HTTPMessage::HTTP_1_0)
      throw FramingRefused(HTTPResponse::HTTP_BAD_REQUEST,
                           "Transfer-Encoding is not allowed in an HTTP/1.0 request");
    if (hasLength)
      throw FramingRefused(HTTPResponse::HTTP_BAD_REQUEST,
                           "a request may not carry both Content-Length and Transfer-Encoding");
    if (codings.empty() || codings.back() != "chunked")
      throw FramingRefused(HTTPResponse::HTTP_BAD_REQUEST,
                           "Transfer-Encoding of a request must end in chunked");
    if (codings.size() > 1)
      throw FramingRefused(HTTPResponse::HTTP_NOT_IMPLEMENTED,
                           "unsupported transfer coding '" + codings.front() + "'");
    out.framing = BodyReader::Framing::Chunked;
    return out;
  }
  if (hasLength) {
    const auto length = agreedLength(lengths);
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
  bool hasCodings = false;
  bool hasLength = false;
  const auto codings = items(response, Poco::Net::HTTPMessage::TRANSFER_ENCODING, hasCodings);
  if (hasCodings) {
    if (codings.size() == 1 && codings.front() == "chunked") {
      out.framing = BodyReader::Framing::Chunked;
      return out;
    }
    // RFC 9112 6.3: without a final chunked, the body runs until the target closes. Any coding
    // but the obsolete "identity" would reach the client undeclared (the header is hop-by-hop).
    if (codings.empty() || (codings.size() == 1 && codings.front() == "identity")) {
      out.framing = BodyReader::Framing::UntilClose;
      return out;
    }
    throw FramingRefused(HTTPResponse::HTTP_BAD_GATEWAY,
                         "target sent an unsupported transfer coding '" + codings.front() + "'");
  }
  const auto lengths = items(response, Poco::Net::HTTPMessage::CONTENT_LENGTH, hasLength);
  if (!hasLength) {
    out.framing = BodyReader::Framing::UntilClose;
    return out;
  }
  const auto length = agreedLength(lengths);
  if (!length)
    throw FramingRefused(HTTPResponse::HTTP_BAD_GATEWAY,
                         "target sent an invalid or conflicting Content-Length");
  out.length = *length;
  out.framing = BodyReader::Framing::Length;
  return out;
}

std::optional<std::uint64_t> MessageFraming::announcedLength(
    const Poco::Net::HTTPMessage& message) {
  bool present = false;
  const auto lengths = items(message, Poco::Net::HTTPMessage::CONTENT_LENGTH, present);
  if (!present) return std::nullopt;
  return agreedLength(lengths);
}

}  // namespace portico
