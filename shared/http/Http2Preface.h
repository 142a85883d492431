#pragma once

#include <string_view>

namespace portico::http {

/// What the first bytes of a cleartext connection say about its protocol. RFC 9113 3.3: a client
/// that knows the server speaks HTTP/2 ("prior knowledge", as nginx's `listen … http2`, Envoy
/// and Caddy accept it) starts with the connection preface; HTTP/1.1 never can, since "PRI" with
/// version 2.0 is no HTTP/1.1 request line.
enum class PrefaceMatch {
  Http1,    // the bytes differ from the preface: HTTP/1.1 (or garbage, which its parser answers)
  Partial,  // so far the bytes are the preface's beginning: wait for more
  Http2,    // the whole 24-byte preface is there
};

/// The client connection preface, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".
constexpr std::string_view kHttp2Preface{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24};

/// Classifies the first bytes a client sent (`bytes` empty is Partial).
PrefaceMatch matchHttp2Preface(std::string_view bytes);

}  // namespace portico::http
