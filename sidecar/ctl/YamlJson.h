#pragma once

#include <stdexcept>
#include <string>

namespace portico::ctl {

/// A document that is neither valid YAML nor valid JSON, or that JSON cannot hold; `what()`
/// names the line and column where it can.
class DocumentError : public std::runtime_error {
 public:
  explicit DocumentError(const std::string& message) : std::runtime_error(message) {}
};

/// YAML (1.2 core schema; JSON is YAML too) to compact JSON text, keys in document order.
/// Quoted scalars stay strings ("100", 'true'); plain ones are resolved: null, ~ and nothing
/// are null, true/false booleans, decimal, 0x and 0o integers and decimal floats numbers,
/// anything else a string. Anchors and aliases are expanded.
std::string yamlToJson(const std::string& yaml);

/// JSON text to block-style YAML, keys in document order. A string that a YAML reader would
/// take for something else (a number, a boolean, null, YAML 1.1's yes/no/on/off, "") is
/// double-quoted, so yamlToJson(jsonToYaml(j)) keeps every value's type.
std::string jsonToYaml(const std::string& json);

/// What a plain (unquoted) YAML scalar means: "null", "bool", "int", "float" or "str".
std::string plainScalarType(const std::string& text);

}  // namespace portico::ctl
