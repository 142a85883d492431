#include "RequestFraming.h"

#include <Poco/Net/HTTPRequest.h>

#include <optional>
#include <vector>

#include "HeaderFilter.h"

namespace portico {
namespace {

using Poco::Net::HTTPResponse;

/// Every comma-separated item of every `name` header, lower-cased and trimmed.
std::vector<std::string> items(const Poco::Net::HTTPRequest& request, const std::string& name,
                               bool& present) {
  std::vector<std::string> out;
  present = false;
  for (auto it = request.find(name); it != request.end() && sameHeaderName(it->first, name); ++it) {
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

}  // namespace

RequestFraming RequestFraming::of(const Poco::Net::HTTPRequest& request) {
  bool hasCodings = false;
  bool hasLength = false;
  const auto codings = items(request, Poco::Net::HTTPMessage::TRANSFER_ENCODING, hasCodings);
  const auto lengths = items(request, Poco::Net::HTTPMessage::CONTENT_LENGTH, hasLength);
  RequestFraming out;
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
    std::optional<std::uint64_t> length;
    for (const auto& item : lengths) {
      const auto n = digits(item);
      if (!n) throw FramingRefused(HTTPResponse::HTTP_BAD_REQUEST, "invalid Content-Length");
      if (length && *length != *n)
        throw FramingRefused(HTTPResponse::HTTP_BAD_REQUEST, "conflicting Content-Length values");
      length = n;
    }
    if (!length) throw FramingRefused(HTTPResponse::HTTP_BAD_REQUEST, "invalid Content-Length");
    out.length = *length;
    out.framing = out.length > 0 ? BodyReader::Framing::Length : BodyReader::Framing::Empty;
  }
  return out;
}

}  // namespace portico
