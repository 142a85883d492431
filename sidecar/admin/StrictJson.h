#pragma once

#include <Poco/Dynamic/Var.h>

#include <string_view>

namespace portico {

/// Parses one JSON text (RFC 8259) with POCO's parser, adding what that parser lets through:
/// the text must be valid UTF-8 (POCO reads a 0xFF byte as the end of input and would accept
/// `{"a":1}\xff garbage`), nothing but whitespace may follow the value, and no object may name
/// a key twice. Nesting deeper than `maxDepth` is refused. Throws InvalidInput with a printable
/// message naming the problem.
Poco::Dynamic::Var parseStrictJson(std::string_view text, std::size_t maxDepth);

}  // namespace portico
