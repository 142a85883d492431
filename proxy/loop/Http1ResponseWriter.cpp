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
