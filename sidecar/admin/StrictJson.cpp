#include "admin/StrictJson.h"

#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/Errors.h"
#include "base/Utf8.h"

namespace portico {
namespace {

/// POCO's object builder, also noting the first key an object names twice (which it would
/// silently overwrite). It records rather than throws: an exception from inside the parser's
/// callbacks would leave the parser's own state unreleased.
class DuplicateKeyHandler : public Poco::JSON::ParseHandler {
 public:
  DuplicateKeyHandler() : Poco::JSON::ParseHandler(false) {}

  void startObject() override {
    ParseHandler::startObject();
    keys_.emplace_back();
  }
  void endObject() override {
    ParseHandler::endObject();
    if (!keys_.empty()) keys_.pop_back();
  }
  void key(const std::string& k) override {
    ParseHandler::key(k);
    if (!keys_.empty() && !keys_.back().insert(k).second && !duplicate_) duplicate_ = k;
  }
  void reset() override {
    ParseHandler::reset();
    keys_.clear();
    duplicate_.reset();
  }

  const std::optional<std::string>& duplicate() const { return duplicate_; }

 private:
  std::vector<std::set<std::string>> keys_;  // the keys of each object still open
  std::optional<std::string> duplicate_;
};

}  // namespace

Poco::Dynamic::Var parseStrictJson(std::string_view text, std::size_t maxDepth) {
  const std::size_t bad = invalidUtf8At(text);
  if (bad != text.size()) {
    static constexpr char kHex[] = "0123456789abcdef";
    const auto b = static_cast<unsigned char>(text[bad]);
    throw InvalidInput(std::string("malformed JSON: not valid UTF-8 (byte 0x") + kHex[b >> 4] +
                       kHex[b & 0xf] + " at offset " + std::to_string(bad) + ")");
  }
  const auto handler = Poco::makeShared<DuplicateKeyHandler>();
  Poco::Dynamic::Var parsed;
  try {
    Poco::JSON::Parser parser(handler);
    parser.setDepth(maxDepth);
    // POCO checks for text after the value itself; with no 0xFF byte left it cannot miss any.
    parsed = parser.parse(std::string(text));
  } catch (const Poco::Exception& e) {
    throw InvalidInput("malformed JSON: " + (e.message().empty() ? e.displayText() : e.message()));
  } catch (const std::exception& e) {
    throw InvalidInput(std::string("malformed JSON: ") + e.what());
  }
  if (handler->duplicate())
    throw InvalidInput("malformed JSON: key '" + printable(*handler->duplicate(), 64) +
                       "' appears twice in one object");
  return parsed;
}

}  // namespace portico
