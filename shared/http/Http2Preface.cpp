#include "http/Http2Preface.h"

namespace portico::http {

PrefaceMatch matchHttp2Preface(std::string_view bytes) {
  if (bytes.size() >= kHttp2Preface.size())
    return bytes.substr(0, kHttp2Preface.size()) == kHttp2Preface ? PrefaceMatch::Http2
                                                                  : PrefaceMatch::Http1;
  return kHttp2Preface.substr(0, bytes.size()) == bytes ? PrefaceMatch::Partial
                                                        : PrefaceMatch::Http1;
}

}  // namespace portico::http
