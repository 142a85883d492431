#include "model/RequestPolicy.h"

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <cctype>

#include "base/ByteSize.h"
#include "base/Duration.h"
#include "base/Errors.h"
#include "base/Utf8.h"
#include "model/JsonFields.h"
#include "model/ModelJson.h"
#include "model/Normalize.h"

namespace portico {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Object;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// RFC 9110 5.6.2 tchar.
bool isToken(const std::string& name) {
  if (name.empty() || name.size() > 256) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string::npos;
  });
}

void checkName(const std::string& field, const std::string& direction, const std::string& name) {
  if (!isToken(name))
    throw invalidFieldError(field, "'" + printable(name, 64) + "' is not a header name");
  const std::string why = refusedHeaderEdit(direction, name);
  if (!why.empty()) throw invalidFieldError(field, why);
}

/// `set` or `add`: header name -> literal value, sorted by name so the order is the same
/// whichever order a client or the store wrote them in.
std::vector<std::pair<std::string, std::string>> readPairs(const Object& edits,
                                                           const std::string& name,
                                                           const std::string& direction) {
  const std::string field = direction + "." + name;
  const auto pairs = objectField(edits, name, field);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [header, value] : *pairs) {
    const std::string at = field + "." + printable(header, 64);
    checkName(at, direction, header);
    if (!value.isString()) throw invalidFieldError(at, "must be a string");
    const std::string text = value.extract<std::string>();
    checkHeaderValue(at, text);
    out.emplace_back(header, text);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return lower(a.first) < lower(b.first); });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (lower(out[i].first) == lower(out[i - 1].first))
      throw invalidFieldError(field, "'" + out[i].first + "' is given twice");
  }
  return out;
}

HeaderEdits readEdits(const Object& body, const std::string& direction) {
  const auto edits = objectField(body, direction, direction);
  static const std::set<std::string> known = {"set", "add", "remove"};
  requireKnownFields(*edits, known, direction + ".");
  HeaderEdits out;
  if (present(*edits, "set")) out.set = readPairs(*edits, "set", direction);
  if (present(*edits, "add")) out.add = readPairs(*edits, "add", direction);
  if (present(*edits, "remove")) {
    out.remove = stringListField(*edits, "remove", direction + ".remove");
    for (std::size_t i = 0; i < out.remove.size(); ++i) {
      const std::string& name = out.remove[i];
      const std::string at = direction + ".remove[" + std::to_string(i) + "]";
      checkName(at, direction, name);
      for (const auto& [setName, value] : out.set) {
        if (lower(setName) == lower(name))
          throw invalidFieldError(at, "'" + name + "' is also set: set replaces it already");
      }
    }
  }
  return out;
}

Object::Ptr writePairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  auto o = jsonObject();
  for (const auto& [name, value] : pairs) o->set(name, value);
  return o;
}

Object::Ptr writeEdits(const HeaderEdits& edits) {
  auto o = jsonObject();
  o->set("set", writePairs(edits.set));
  o->set("add", writePairs(edits.add));
  Poco::JSON::Array::Ptr remove = new Poco::JSON::Array;
  for (const auto& name : edits.remove) remove->add(name);
  o->set("remove", remove);
  return o;
}

/// A timeout of the route: absent keeps it, null or "0s" gives it back to the proxy's.
void readTimeout(const Object& timeouts, const std::string& name, std::chrono::milliseconds& to) {
  if (!timeouts.has(name)) return;
  to = timeouts.isNull(name) ? std::chrono::milliseconds(0)
                             : durationField(timeouts, name, "timeouts." + name);
}

void readTimeouts(const Object& body, RouteTimeouts& timeouts) {
  const auto t = objectField(body, "timeouts", "timeouts");
  static const std::set<std::string> known = {"connect", "read", "send"};
  requireKnownFields(*t, known, "timeouts.");
  readTimeout(*t, "connect", timeouts.connect);
  readTimeout(*t, "read", timeouts.read);
  readTimeout(*t, "send", timeouts.send);
}

Var durationOrNull(std::chrono::milliseconds d) {
  return d.count() == 0 ? Var() : Var(formatDuration(d));
}

std::uint64_t readBodySize(const Object& body) {
  const Var v = body.get("maxBodySize");
  try {
    if (v.isString()) return parseByteSize(v.extract<std::string>());
  } catch (const InvalidInput& e) {
    throw invalidFieldError("maxBodySize", e.what());
  }
  if (v.isInteger() && !v.isBoolean())
    return static_cast<std::uint64_t>(
        integerField(body, "maxBodySize", "maxBodySize", 0, std::int64_t{1} << 40));
  throw invalidFieldError("maxBodySize", "must be a size like \"10MiB\" or a number of bytes");
}

}  // namespace

std::string refusedHeaderEdit(const std::string& direction, const std::string& name) {
  // Hop-by-hop (RFC 9110 7.6.1) and framing headers belong to each connection, not to the
  // message: editing them would desynchronise the two hops (request smuggling).
  static const std::set<std::string> never = {"connection", "keep-alive",    "proxy-connection",
                                              "te",         "trailer",       "transfer-encoding",
                                              "upgrade",    "content-length"};
  // Computed by the proxy for every request (ForwardingPolicy::writeUpstreamHead); Host is
  // preserveHost's.
  static const std::set<std::string> computed = {
      "host",          "expect",      "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto",
      "x-origin-host", "x-request-id"};
  const std::string n = lower(name);
  if (never.count(n) || n.rfind("proxy-", 0) == 0)
    return "'" + name + "' is a hop-by-hop or framing header";
  if (direction == "requestHeaders" && computed.count(n))
    return "'" + name + "' is set by the proxy" +
           (n == "host" ? std::string(" (see preserveHost)") : std::string());
  return "";
}

void checkHeaderValue(const std::string& field, const std::string& value) {
  if (value.size() > 8192) throw invalidFieldError(field, "is longer than 8192 bytes");
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f)
      throw invalidFieldError(field, "contains a control character");
  }
  if (!isValidUtf8(value)) throw invalidFieldError(field, "is not valid UTF-8");
}

std::string normalizeRewritePrefix(const std::string& raw) {
  for (const char c : raw) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f)
      throw invalidFieldError("rewritePrefix",
                              "must be ASCII without spaces (percent-encode the rest)");
  }
  try {
    return normalizePrefix(raw);
  } catch (const InvalidInput& e) {
    throw invalidFieldError("rewritePrefix", e.what());
  }
}

const std::set<std::string>& RequestPolicy::fields() {
  static const std::set<std::string> names = {"stripPrefix",    "rewritePrefix",   "preserveHost",
                                              "requestHeaders", "responseHeaders", "timeouts",
                                              "maxBodySize"};
  return names;
}

void RequestPolicy::read(const Object& body) {
  if (present(body, "stripPrefix")) stripPrefix = boolField(body, "stripPrefix", "stripPrefix");
  if (body.has("rewritePrefix")) {
    const std::string raw =
        body.isNull("rewritePrefix") ? "" : stringField(body, "rewritePrefix", "rewritePrefix");
    rewritePrefix = raw.empty() ? "" : normalizeRewritePrefix(raw);
  }
  if (present(body, "preserveHost")) preserveHost = boolField(body, "preserveHost", "preserveHost");
  if (present(body, "requestHeaders")) requestHeaders = readEdits(body, "requestHeaders");
  if (present(body, "responseHeaders")) responseHeaders = readEdits(body, "responseHeaders");
  if (present(body, "timeouts")) readTimeouts(body, timeouts);
  if (body.has("maxBodySize")) maxBodySize = body.isNull("maxBodySize") ? 0 : readBodySize(body);
  if (!stripPrefix && !rewritePrefix.empty())
    throw invalidFieldError("rewritePrefix",
                            "replaces the matched prefix, so stripPrefix must be true");
}

void RequestPolicy::write(Object& out) const {
  out.set("stripPrefix", stripPrefix);
  out.set("rewritePrefix", rewritePrefix.empty() ? Var() : Var(rewritePrefix));
  out.set("preserveHost", preserveHost);
  out.set("requestHeaders", writeEdits(requestHeaders));
  out.set("responseHeaders", writeEdits(responseHeaders));
  auto t = jsonObject();
  t->set("connect", durationOrNull(timeouts.connect));
  t->set("read", durationOrNull(timeouts.read));
  t->set("send", durationOrNull(timeouts.send));
  out.set("timeouts", t);
  out.set("maxBodySize", maxBodySize == 0 ? Var() : Var(formatByteSize(maxBodySize)));
}

bool HeaderEdits::operator==(const HeaderEdits& o) const {
  return set == o.set && add == o.add && remove == o.remove;
}

bool RouteTimeouts::operator==(const RouteTimeouts& o) const {
  return connect == o.connect && read == o.read && send == o.send;
}

bool RequestPolicy::operator==(const RequestPolicy& o) const {
  return stripPrefix == o.stripPrefix && rewritePrefix == o.rewritePrefix &&
         preserveHost == o.preserveHost && requestHeaders == o.requestHeaders &&
         responseHeaders == o.responseHeaders && timeouts == o.timeouts &&
         maxBodySize == o.maxBodySize;
}

}  // namespace portico
