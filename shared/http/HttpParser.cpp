#include "http/HttpParser.h"

#include <llhttp.h>

#include <algorithm>

namespace portico::http {
namespace {

/// RFC 9110 5.6.2: tchar.
bool isTokenChar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

/// True when the first line of `text` (complete or not) ends in "HTTP/" and a digit: a version
/// this server does not speak, as opposed to a malformed line.
bool endsWithVersion(std::string_view text) {
  const std::string_view line = text.substr(0, text.find_first_of("\r\n"));
  const std::size_t space = line.rfind(' ');
  if (space == std::string_view::npos) return false;
  const std::string_view v = line.substr(space + 1);
  return v.size() >= 6 && v.substr(0, 5) == "HTTP/" && v[5] >= '0' && v[5] <= '9';
}

/// The answer to a message llhttp refused.
struct ParseRefusal {
  int status;
  const char* message;
};

/// Why llhttp stopped with `rc` (`reason`) on the message starting `text`: 505 for a version
/// this server does not speak, 501 for an unknown method, else 400 with llhttp's reason.
ParseRefusal refusalOf(llhttp_errno_t rc, const char* reason, std::string_view text,
                       HttpParser::Kind kind) {
  ParseRefusal refusal{400, reason};
  if (rc == HPE_INVALID_VERSION && endsWithVersion(text))
    refusal = {505, "HTTP version not supported (1.0 and 1.1 are)"};
  if (kind == HttpParser::Kind::Request && rc == HPE_INVALID_METHOD) {
    // A well-formed token llhttp does not know is a method this server does not implement
    // (RFC 9110 15.6.2); anything else is a bad request line.
    const std::size_t space = std::min(text.find(' '), text.size());
    bool token = space > 0;
    for (std::size_t i = 0; token && i < space; ++i)
      token = isTokenChar(static_cast<unsigned char>(text[i]));
    refusal = token ? ParseRefusal{501, "method not implemented"}
                    : ParseRefusal{400, "malformed request line"};
  }
  return refusal;
}

HttpParser* self(llhttp_t* p) {
  return static_cast<HttpParser*>(p->data);
}

}  // namespace

/// llhttp's C callbacks, forwarding to the parser that owns the llhttp state.
struct HttpParser::Callbacks {
  static int messageBegin(llhttp_t* p) {
    self(p)->started_ = true;
    return 0;
  }
  static int method(llhttp_t* p, const char* at, std::size_t n) {
    HttpParser& s = *self(p);
    HttpHead::Span span = spanOf(s, &HttpHead::method);
    const int rc = s.extend(span, at, n);
    s.head_.setMethod(span);
    return rc;
  }
  static int url(llhttp_t* p, const char* at, std::size_t n) {
    HttpParser& s = *self(p);
    s.started_ = true;  // (llhttp's strict mode refuses control characters in the target)
    HttpHead::Span span = spanOf(s, &HttpHead::target);
    const int rc = s.extend(span, at, n);
    s.head_.setTarget(span);
    if (rc == 0 && span.length > s.limits_.maxTargetBytes)
      return s.fail(414, "request target too long");
    // A line break right after the target is an HTTP/0.9 request ("GET /"), which has no head
    // to wait for: refused now rather than after the header timeout.
    if (rc == 0 && at + n < s.end_ && (at[n] == '\r' || at[n] == '\n'))
      return s.fail(505, "HTTP/0.9 is not supported");
    return rc;
  }
  static int status(llhttp_t* p, const char* at, std::size_t n) {
    HttpParser& s = *self(p);
    s.started_ = true;
    HttpHead::Span span = spanOf(s, &HttpHead::reason);
    const int rc = s.extend(span, at, n);
    s.head_.setReason(span);
    return rc;
  }
  // Header names and values need no checks of their own here: llhttp in strict mode refuses
  // every name byte that is not a token character and every control character in a value
  // (HttpParserTest has the table).
  static int headerField(llhttp_t* p, const char* at, std::size_t n) {
    HttpParser& s = *self(p);
    if (s.headDone_) return 0;  // trailer fields are not passed on
    auto& fields = s.head_.fields();
    if (fields.empty() || s.inValue_) {
      fields.push_back({});
      s.inValue_ = false;
    }
    return s.extend(fields.back().name, at, n);
  }
  static int headerValue(llhttp_t* p, const char* at, std::size_t n) {
    HttpParser& s = *self(p);
    if (s.headDone_) return 0;
    auto& fields = s.head_.fields();
    if (fields.empty()) return s.fail(400, "header value without a name");
    HttpHead::Span& value = fields.back().value;
    // A value that goes on after a line break (obsolete line folding) is not contiguous with
    // what came before: RFC 9112 5.2 lets a server reject it, and two parsers could read it
    // differently.
    if (s.inValue_ && value.length > 0 && at != s.base_ + value.offset + value.length)
      return s.fail(400, "obsolete line folding in a header");
    s.inValue_ = true;
    return s.extend(value, at, n);
  }
  static int headerValueComplete(llhttp_t* p) {
    HttpParser& s = *self(p);
    if (s.headDone_) return 0;
    auto& fields = s.head_.fields();
    if (fields.empty()) return 0;
    s.inValue_ = true;
    HttpHead::Field& field = fields.back();
    field.known = classifyHeader(std::string_view(s.base_ + field.name.offset, field.name.length));
    // llhttp drops leading whitespace but keeps trailing whitespace (OWS) in the value.
    HttpHead::Span& value = fields.back().value;
    while (value.length > 0) {
      const char c = s.base_[value.offset + value.length - 1];
      if (c != ' ' && c != '\t') break;
      --value.length;
    }
    if (value.length == 0) value.offset = 0;
    return 0;
  }
  static int headersComplete(llhttp_t* p) { return self(p)->onHeadersComplete(); }
  static int chunkHeader(llhttp_t* p) {
    HttpParser& s = *self(p);
    if (p->content_length > 0) {
      s.inChunk_ = true;
      if (s.sink_) s.sink_->chunkStart(p->content_length);
    }
    return 0;
  }
  static int body(llhttp_t* p, const char* at, std::size_t n) {
    HttpParser& s = *self(p);
    s.bodyBytes_ += n;
    if (s.sink_) s.sink_->data(at, n);
    return 0;
  }
  static int chunkComplete(llhttp_t* p) {
    HttpParser& s = *self(p);
    if (s.inChunk_) {
      s.inChunk_ = false;
      if (s.sink_) s.sink_->chunkEnd();
    }
    return 0;
  }
  static int messageComplete(llhttp_t* p) {
    self(p)->messageDone_ = true;
    return HPE_PAUSED;
  }

  static HttpHead::Span spanOf(HttpParser& s, std::string_view (HttpHead::*getter)() const) {
    const std::string_view v = (s.head_.*getter)();
    if (v.empty()) return {};
    return {static_cast<std::uint32_t>(v.data() - s.base_), static_cast<std::uint32_t>(v.size())};
  }

  static const llhttp_settings_t& settings() {
    static const llhttp_settings_t instance = [] {
      llhttp_settings_t s;
      llhttp_settings_init(&s);
      s.on_message_begin = messageBegin;
      s.on_method = method;
      s.on_url = url;
      s.on_status = status;
      s.on_header_field = headerField;
      s.on_header_value = headerValue;
      s.on_header_value_complete = headerValueComplete;
      s.on_headers_complete = headersComplete;
      s.on_chunk_header = chunkHeader;
      s.on_body = body;
      s.on_chunk_complete = chunkComplete;
      s.on_message_complete = messageComplete;
      return s;
    }();
    return instance;
  }
};

HttpParser::HttpParser(Kind kind, Limits limits)
    : kind_(kind), limits_(limits), parser_(std::make_unique<llhttp_t>()) {
  reset();
}

HttpParser::~HttpParser() = default;

void HttpParser::reset() {
  llhttp_init(parser_.get(), kind_ == Kind::Request ? HTTP_REQUEST : HTTP_RESPONSE,
              &Callbacks::settings());
  parser_->data = this;
  // Framing conflicts (Content-Length with Transfer-Encoding, codings other than a final
  // chunked) are left to MessageFraming, the one place that decides framing, which refuses them
  // before any body byte is read; for a response Transfer-Encoding wins, as RFC 9112 says.
  llhttp_set_lenient_chunked_length(parser_.get(), 1);
  if (kind_ == Kind::Request) llhttp_set_lenient_transfer_encoding(parser_.get(), 1);
  head_.clear();
  base_ = nullptr;
  headBytes_ = 0;
  bodyBytes_ = 0;
  started_ = headDone_ = headReported_ = messageDone_ = noBody_ = inValue_ = inChunk_ = false;
  errorStatus_ = 0;
  errorMessage_.clear();
}

int HttpParser::fail(int status, const char* message) {
  errorStatus_ = status;
  errorMessage_ = message;
  llhttp_set_error_reason(parser_.get(), message);
  return HPE_USER;
}

int HttpParser::extend(HttpHead::Span& span, const char* at, std::size_t length) {
  const auto offset = static_cast<std::uint32_t>(at - base_);
  if (span.length == 0) {
    span.offset = offset;
  } else if (offset != span.offset + span.length) {
    return fail(400, "malformed message head");
  }
  span.length += static_cast<std::uint32_t>(length);
  return 0;
}

int HttpParser::onHeadersComplete() {
  headDone_ = true;
  llhttp_t* p = parser_.get();
  head_.setVersion(p->http_major, p->http_minor);
  if (p->http_major != 1) {
    return fail(505, p->http_major == 0 ? "HTTP/0.9 is not supported"
                                        : "HTTP version not supported (1.0 and 1.1 are)");
  }
  if (kind_ == Kind::Request) {
    const std::size_t hosts = head_.count(KnownHeader::Host);
    if (p->http_minor == 1 && hosts == 0)
      return fail(400, "an HTTP/1.1 request needs a Host header");
    if (hosts > 1) return fail(400, "more than one Host header");
  } else {
    // RFC 9110 15: a status is 100-599. llhttp takes any three digits; "000" with a body would
    // be neither an interim response nor a final one the framing rules could delimit.
    if (p->status_code < 100 || p->status_code > 599)
      return fail(400, "status code outside 100-599");
    head_.setStatus(p->status_code);
    // 1xx, 204 and 304 responses have no body whatever they announce (RFC 9112 6.3); llhttp
    // would read a Content-Length after them, taking the next response's first bytes for this
    // one's body and handing them on. (A 101 that switches protocols still pauses for the
    // upgrade: llhttp does so for a message without a body.)
    const int code = p->status_code;
    const bool bodyless = code < 200 || code == 204 || code == 304;
    // llhttp goes on to message complete; feed() reports the head first.
    if (noBody_ || bodyless) return 1;
  }
  return HPE_PAUSED;
}

HttpParser::Status HttpParser::feed(const char* base, std::size_t begin, std::size_t end,
                                    BodySink* sink, std::size_t& consumed) {
  consumed = 0;
  base_ = base;
  if (!headDone_) head_.rebase(base);  // once complete, the head may live elsewhere (detachHead)
  sink_ = sink;
  if (errorStatus_ != 0) return Status::Error;
  if (headDone_ && !headReported_) {
    headReported_ = true;  // a bodyless response completed in the same step as its head
    return Status::HeadComplete;
  }
  if (messageDone_) return Status::MessageComplete;
  std::size_t stop = end;
  if (!headDone_) stop = std::min(end, begin + (limits_.maxHeadBytes - headBytes_));
  if (!started_ && headBytes_ == 0) messageStart_ = begin;
  if (llhttp_get_errno(parser_.get()) == HPE_PAUSED) llhttp_resume(parser_.get());
  end_ = base + stop;
  const llhttp_errno_t rc = llhttp_execute(parser_.get(), base + begin, stop - begin);
  std::size_t used = stop - begin;
  if (rc == HPE_PAUSED || rc == HPE_PAUSED_UPGRADE) {
    used = static_cast<std::size_t>(llhttp_get_error_pos(parser_.get()) - (base + begin));
  } else if (rc != HPE_OK) {
    if (errorStatus_ == 0) {
      const ParseRefusal refusal =
          refusalOf(rc, llhttp_get_error_reason(parser_.get()),
                    std::string_view(base + messageStart_, end - messageStart_), kind_);
      errorStatus_ = refusal.status;
      errorMessage_ = refusal.message;
    }
    return Status::Error;
  }
  consumed = used;
  if (!headReported_) headBytes_ += used;
  if (!headDone_) {
    if (headBytes_ >= limits_.maxHeadBytes) {
      errorStatus_ = 431;
      errorMessage_ = "request head too large";
      if (kind_ == Kind::Response) errorMessage_ = "response head too large";
      return Status::Error;
    }
    return Status::NeedMore;
  }
  if (!headReported_) {
    headReported_ = true;
    return Status::HeadComplete;
  }
  return messageDone_ ? Status::MessageComplete : Status::NeedMore;
}

HttpParser::Status HttpParser::finish(BodySink* sink) {
  sink_ = sink;
  if (errorStatus_ != 0) return Status::Error;
  if (messageDone_) return Status::MessageComplete;
  if (!started_) return Status::NeedMore;
  if (llhttp_get_errno(parser_.get()) == HPE_PAUSED) llhttp_resume(parser_.get());
  const llhttp_errno_t rc = llhttp_finish(parser_.get());
  if ((rc == HPE_OK || rc == HPE_PAUSED) && messageDone_) return Status::MessageComplete;
  errorStatus_ = 400;
  errorMessage_ = headDone_ ? "connection closed before the end of the body"
                            : "connection closed inside the message head";
  return Status::Error;
}

void HttpParser::detachHead() {
  head_.detach(messageStart_, headBytes_);
}

bool HttpParser::keepAlive() const {
  return llhttp_should_keep_alive(parser_.get()) != 0;
}

bool HttpParser::upgrade() const {
  return parser_->upgrade != 0;
}

}  // namespace portico::http
