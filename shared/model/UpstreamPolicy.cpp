#include "model/UpstreamPolicy.h"

#include "base/Errors.h"
#include "model/JsonFields.h"

namespace portico {

namespace {
constexpr const char* kField = "upstreamProtocol";
}

std::string_view upstreamProtocolName(UpstreamPolicy::Protocol protocol) {
  switch (protocol) {
    case UpstreamPolicy::Protocol::H2:
      return "h2";
    case UpstreamPolicy::Protocol::Auto:
      return "auto";
    case UpstreamPolicy::Protocol::Http11:
      break;
  }
  return "http/1.1";
}

UpstreamPolicy::Protocol parseUpstreamProtocol(std::string_view text) {
  for (auto p : {UpstreamPolicy::Protocol::Http11, UpstreamPolicy::Protocol::H2,
                 UpstreamPolicy::Protocol::Auto})
    if (text == upstreamProtocolName(p)) return p;
  throw InvalidInput("'" + std::string(text) + "' is not one of http/1.1, h2, auto");
}

const std::set<std::string>& UpstreamPolicy::fields() {
  static const std::set<std::string> names{kField};
  return names;
}

void UpstreamPolicy::read(const Poco::JSON::Object& body) {
  if (!present(body, kField)) return;
  const std::string text = stringField(body, kField, kField);
  try {
    protocol = parseUpstreamProtocol(text);
  } catch (const InvalidInput& e) {
    throw InvalidInput(invalidFieldMessage(kField, e.what()));
  }
}

void UpstreamPolicy::write(Poco::JSON::Object& out) const {
  out.set(kField, std::string(upstreamProtocolName(protocol)));
}

}  // namespace portico
