// HttpParser (the llhttp adaptor) and MessageFraming: what the proxy and the admin API do with
// the raw bytes of a request or a response.
// Input: one byte choosing requests or responses and the size of the pieces the bytes arrive in,
// then the message bytes.

#include <string>
#include <vector>

#include "FuzzCheck.h"
#include "HttpParser.h"
#include "MessageFraming.h"

using namespace portico;
using namespace portico::fuzz;
using http::HttpParser;
using Status = HttpParser::Status;

namespace {

class Sink : public http::BodySink {
 public:
  void data(const char* bytes, std::size_t size) override { body.append(bytes, size); }
  std::string body;
};

struct Outcome {
  Status status{Status::NeedMore};
  int error{0};
  std::size_t consumed{0};
  std::string body;
  std::string head;
};

bool isToken(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

/// Parses `input` arriving `step` bytes at a time (0: at once), head then body, as a connection
/// does, and checks what must hold of every head the parser accepts.
Outcome parse(HttpParser::Kind kind, std::string_view input, std::size_t step) {
  HttpParser::Limits limits;
  limits.maxHeadBytes = 4096;
  limits.maxTargetBytes = 1024;
  HttpParser parser(kind, limits);
  Sink sink;
  Outcome out;
  std::string buffer;
  std::size_t parsed = 0;
  std::size_t given = 0;
  bool again = false;
  for (;;) {
    if (parsed == buffer.size() && !again) {
      if (given == input.size()) break;
      const std::size_t n = step == 0 ? input.size() - given : std::min(step, input.size() - given);
      buffer.append(input.substr(given, n));
      given += n;
    }
    again = false;
    std::size_t used = 0;
    out.status = parser.feed(buffer.data(), parsed, buffer.size(), &sink, used);
    require(used <= buffer.size() - parsed, "consumed more than given");
    parsed += used;
    if (out.status == Status::HeadComplete) {
      const http::HttpHead& h = parser.head();
      require(h.versionMajor() == 1 && h.versionMinor() <= 1, "version outside 1.0/1.1");
      for (std::size_t i = 0; i < h.fieldCount(); ++i) {
        const std::string_view name = h.name(i);
        require(!name.empty(), "empty header name");
        for (const char c : name) require(isToken(static_cast<unsigned char>(c)), "name char", name);
        for (const char c : h.value(i)) {
          const auto u = static_cast<unsigned char>(c);
          require((u >= 0x20 && u != 0x7f) || u == '\t', "control character in a value", h.value(i));
        }
        out.head += std::string(name) + ":" + std::string(h.value(i)) + "\n";
      }
      if (kind == HttpParser::Kind::Request) {
        require(!h.method().empty(), "no method");
        for (const char c : h.target())
          require(static_cast<unsigned char>(c) > 0x20 && c != 0x7f, "target char", h.target());
        require(h.versionMinor() == 0 || h.count(http::KnownHeader::Host) == 1, "Host rule");
        const http::MessageFraming f = http::MessageFraming::ofRequest(h);
        if (f.refused()) {
          require(f.refusal == 400 || f.refusal == 501, "refusal status");
          requireMessage(f.reason);
          out.status = Status::Error;
          out.error = f.refusal;
          break;
        }
      } else {
        const http::MessageFraming f = http::MessageFraming::ofResponse(h, false);
        if (f.refused()) {
          require(f.refusal == 502, "response refusal status");
          requireMessage(f.reason);
        }
      }
      // The head moved out of the buffer must read the same.
      const std::string before = out.head;
      parser.detachHead();
      std::string after;
      for (std::size_t i = 0; i < h.fieldCount(); ++i)
        after += std::string(h.name(i)) + ":" + std::string(h.value(i)) + "\n";
      require(before == after, "detached head differs");
      again = true;
      continue;
    }
    if (out.status == Status::Error) {
      const int e = parser.errorStatus();
      require(e == 400 || e == 414 || e == 431 || e == 501 || e == 505, "error status");
      requireMessage(parser.errorMessage());
      out.error = e;
      break;
    }
    if (out.status == Status::MessageComplete) break;
  }
  out.consumed = parsed;
  out.body = sink.body;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto kind = (data[0] & 1) ? HttpParser::Kind::Response : HttpParser::Kind::Request;
  const std::size_t step = (data[0] >> 1) % 16;
  const std::string_view input = text(data + 1, size - 1);
  const Outcome whole = parse(kind, input, 0);
  const Outcome pieces = parse(kind, input, step);
  // Where the bytes break into reads never changes the outcome.
  require(whole.status == pieces.status, "outcome depends on how the bytes arrive");
  require(whole.error == pieces.error, "error depends on how the bytes arrive");
  require(whole.head == pieces.head, "head depends on how the bytes arrive");
  if (whole.status == Status::MessageComplete) {
    require(whole.consumed == pieces.consumed, "message length depends on the reads");
    require(whole.body == pieces.body, "body depends on the reads");
  }
  return 0;
}
