// The HTTP layer both the proxy and (through its framing rules) the admin API read untrusted
// bytes with: http::HttpParser over llhttp, then MessageFraming on each head. Input: one byte
// of settings (bit 0: responses instead of requests; bits 1-6: the size of the pieces the bytes
// arrive in, so a head or a chunk split anywhere is exercised), then the bytes of a connection.
// Checks that parsing the same bytes in pieces gives the same verdicts as in one piece, that a
// refusal is one of the statuses the proxy answers (the parser's reasons printable), and that
// what the parser delivers of a body agrees with the framing MessageFraming decided.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/FuzzCheck.h"
#include "http/HttpParser.h"
#include "http/MessageFraming.h"

using namespace portico;
using namespace portico::fuzz;
using http::BodyFraming;
using http::HttpParser;
using http::MessageFraming;
using Status = HttpParser::Status;

namespace {

struct CountingSink : http::BodySink {
  std::uint64_t bytes{0};
  std::uint64_t announced{0};  // the sum of the chunk sizes
  void chunkStart(std::uint64_t size) override { announced += size; }
  void data(const char*, std::size_t size) override { bytes += size; }
};

/// What happened to one message: enough to compare two readings of the same bytes.
struct Outcome {
  int status{0};  // the head's status line (responses) or 0
  int error{0};
  int refusal{0};  // MessageFraming's
  std::uint64_t bodyBytes{0};
  bool complete{false};
  // Refused or not must not depend on how the bytes arrive; which 4xx/5xx a broken request line
  // gets may (the parser classifies a bad method, 501 or 400, and a bad version, 505 or 400,
  // on the bytes it has seen so far: "GECon" then "nection:" is 501 in pieces, 400 at once).
  bool operator==(const Outcome& o) const {
    return status == o.status && (error != 0) == (o.error != 0) && refusal == o.refusal &&
           bodyBytes == o.bodyBytes && complete == o.complete;
  }
};

std::vector<Outcome> parse(HttpParser::Kind kind, std::string_view bytes, std::size_t piece) {
  std::vector<Outcome> out;
  HttpParser parser(kind);
  CountingSink sink;
  Outcome current;
  MessageFraming framing;
  std::size_t begin = 0;  // where the current message starts in `bytes`
  std::size_t pos = 0;
  std::size_t idle = 0;  // calls in a row that used nothing
  while (pos < bytes.size() && out.size() < 64) {
    require(++idle < 8, "the parser makes no progress");
    const std::size_t end = std::min(bytes.size(), pos + piece);
    std::size_t used = 0;
    const Status s = parser.feed(bytes.data() + begin, pos - begin, end - begin, &sink, used);
    require(used <= end - pos, "consumed more than it was given");
    pos += used;
    if (used > 0) idle = 0;
    if (s == Status::Error) {
      current.error = parser.errorStatus();
      static const std::vector<int> statuses{400, 413, 414, 431, 501, 505};
      require(std::find(statuses.begin(), statuses.end(), current.error) != statuses.end(),
              "refused with a status the proxy does not answer with", parser.errorMessage());
      requireMessage(parser.errorMessage());
      out.push_back(current);
      return out;
    }
    if (s == Status::HeadComplete) {
      const http::HttpHead& head = parser.head();
      if (kind == HttpParser::Kind::Response) {
        current.status = head.status();
        framing = MessageFraming::ofResponse(
            head, current.status < 200 || current.status == 204 || current.status == 304);
      } else {
        framing = MessageFraming::ofRequest(head);
      }
      current.refusal = framing.refusal;
      if (framing.refused()) {
        // The reason quotes the header as sent (raw bytes); ErrorReply and the log make it
        // printable where it is written.
        require(!framing.reason.empty(), "a refusal without a reason");
        out.push_back(current);
        return out;  // the connection closes: where the body ends is unknown
      }
      continue;
    }
    if (s == Status::MessageComplete) {
      current.complete = true;
      current.bodyBytes = sink.bytes;
      if (framing.framing == BodyFraming::Length)
        require(sink.bytes == framing.length, "a Content-Length body of another length");
      if (framing.framing == BodyFraming::Chunked)
        require(sink.bytes == sink.announced, "chunk data differs from the chunk sizes");
      if (framing.framing == BodyFraming::Empty) require(sink.bytes == 0, "a body where none is");
      out.push_back(current);
      if (parser.upgrade()) return out;  // the bytes after it are another protocol's
      current = Outcome();
      sink = CountingSink();
      parser.reset();
      begin = pos;
      continue;
    }
  }
  // The peer closes: a body delimited by the close ends here, anything else cut short is refused.
  if (out.size() < 64 && (out.empty() || out.back().error == 0) && parser.started() &&
      !parser.messageComplete()) {
    const Status s = parser.finish(&sink);
    if (s == Status::Error) {
      current.error = parser.errorStatus();
      requireMessage(parser.errorMessage());
      out.push_back(current);
    } else if (s == Status::MessageComplete) {
      current.complete = true;
      current.bodyBytes = sink.bytes;
      out.push_back(current);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto settings = data[0];
  const auto kind = settings & 1 ? HttpParser::Kind::Response : HttpParser::Kind::Request;
  const std::size_t piece = 1 + ((settings >> 1) & 0x3f);
  const std::string_view bytes = text(data + 1, size - 1);
  const auto whole = parse(kind, bytes, bytes.size() + 1);
  const auto pieces = parse(kind, bytes, piece);
  require(whole == pieces, "the same bytes read differently when they arrive in pieces");
  return 0;
}
