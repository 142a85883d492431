#include "loop/Http1ResponseWriter.h"

#include "http/NumberText.h"

namespace portico {

void Http1ResponseWriter::head(const ResponseHead& head, bool clientKeepsAlive,
                               std::string& scratch) {
  const bool keepAlive = clientKeepsAlive && !head.closesClient();
  closeAfter_ = !keepAlive;
  chunked_ = head.chunked();
  scratch.clear();
  head.writeHttp1(keepAlive, scratch);
  out_.append(scratch);
}

void Http1ResponseWriter::body(std::string_view bytes) {
  if (bytes.empty()) return;  // an empty chunk would end a chunked body
  if (chunked_) {
    char text[24];
    out_.append(http::chunkSizeLine(bytes.size(), text));
    out_.reference(bytes);
    out_.append("\r\n");
  } else {
    out_.reference(bytes);
  }
}

void Http1ResponseWriter::trailers(const http::HttpHead& fields, std::string& scratch) {
  if (!chunked_) return;
  using K = http::KnownHeader;
  scratch.assign("0\r\n");
  for (std::size_t i = 0; i < fields.fieldCount(); ++i) {
    const K k = fields.known(i);
    if (k == K::ContentLength || k == K::TransferEncoding || k == K::Host || k == K::Connection ||
        k == K::KeepAlive || k == K::Te || k == K::Upgrade || k == K::Trailer)
      continue;
    scratch.append(fields.name(i)).append(": ").append(fields.value(i)).append("\r\n");
  }
  scratch.append("\r\n");
  out_.append(scratch);
  chunked_ = false;  // the last chunk went with them
}

void Http1ResponseWriter::end() {
  if (chunked_) out_.append("0\r\n\r\n");
}

void Http1ResponseWriter::error(const ErrorReply& reply, bool clientKeepsAlive,
                                std::string& scratch) {
  closeAfter_ = !clientKeepsAlive;
  chunked_ = false;
  scratch.clear();
  reply.writeHttp1(clientKeepsAlive, scratch);
  out_.append(scratch);
}

void Http1ResponseWriter::switching(const ResponseHead& head, std::string& scratch) {
  closeAfter_ = false;
  chunked_ = false;
  scratch.clear();
  head.writeHttp1(true, scratch);
  out_.append(scratch);
}

}  // namespace portico
