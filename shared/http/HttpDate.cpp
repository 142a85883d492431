#include "http/HttpDate.h"

#include <algorithm>
#include <ctime>
#include <iterator>

namespace portico::http {

std::string_view httpDate() {
  thread_local std::time_t second = 0;
  thread_local char text[32] = {0};
  thread_local std::size_t length = 0;
  const std::time_t now = std::time(nullptr);
  if (now != second) {
    std::tm utc{};
    gmtime_r(&now, &utc);
    length = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    second = now;
  }
  return std::string_view(text, length);
}

namespace {

struct Reason {
  int status;
  std::string_view phrase;
};

// The statuses Portico sends or relays most, in status order (RFC 9110 section 15).
constexpr Reason kReasons[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {417, "Expectation Failed"},
    {418, "I'm a teapot"},
    {421, "Misdirected Request"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

constexpr bool inStatusOrder() {
  for (std::size_t i = 1; i < std::size(kReasons); ++i)
    if (kReasons[i - 1].status >= kReasons[i].status) return false;
  return true;
}
static_assert(inStatusOrder(), "reasonPhrase() searches kReasons by halves");

}  // namespace

std::string_view reasonPhrase(int status) {
  const auto it = std::lower_bound(std::begin(kReasons), std::end(kReasons), status,
                                   [](const Reason& r, int s) { return r.status < s; });
  return it != std::end(kReasons) && it->status == status ? it->phrase : "Unknown";
}

}  // namespace portico::http
