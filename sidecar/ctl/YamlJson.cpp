#include "ctl/YamlJson.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>
#include <regex>
#include <sstream>

namespace portico::ctl {

namespace {

using Poco::Dynamic::Var;

// YAML 1.2's core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
const std::regex kNull("null|Null|NULL|~|");
const std::regex kBool("true|True|TRUE|false|False|FALSE");
const std::regex kInt("[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+");
const std::regex kFloat(
    "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)");
// YAML 1.1 readers (PyYAML, older yaml-cpp users) take these for booleans: quote them too.
const std::regex kYaml11Bool("y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF");

std::string where(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return " (line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) +
         ")";
}

Var intValue(const std::string& text, const YAML::Mark& mark) {
  int base = 10;
  std::string digits = text;
  if (text.rfind("0o", 0) == 0) base = 8, digits = text.substr(2);
  if (text.rfind("0x", 0) == 0) base = 16, digits = text.substr(2);
  errno = 0;
  const long long value = std::strtoll(digits.c_str(), nullptr, base);
  if (errno == ERANGE) {
    if (base != 10) throw DocumentError("integer '" + text + "' is too large" + where(mark));
    return Var(std::strtod(text.c_str(), nullptr));
  }
  return Var(static_cast<Poco::Int64>(value));
}

Var scalarValue(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  const std::string& tag = node.Tag();
  if (tag != "?") return Var(text);  // quoted ("!") or tagged: a string as written
  const std::string type = plainScalarType(text);
  if (type == "null") return Var();
  if (type == "bool") return Var(text[0] == 't' || text[0] == 'T');
  if (type == "int") return intValue(text, node.Mark());
  if (type == "float") {
    if (text.find_first_of("nN") != std::string::npos ||
        text.find_first_of("iI") != std::string::npos)
      throw DocumentError("'" + text + "' has no JSON number" + where(node.Mark()));
    return Var(std::strtod(text.c_str(), nullptr));
  }
  return Var(text);
}

Var toVar(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return Var();
    case YAML::NodeType::Scalar:
      return scalarValue(node);
    case YAML::NodeType::Sequence: {
      Poco::JSON::Array::Ptr array = new Poco::JSON::Array();
      for (const auto& item : node) array->add(toVar(item));
      return Var(array);
    }
    case YAML::NodeType::Map: {
      Poco::JSON::Object::Ptr object = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
      for (const auto& entry : node) {
        if (!entry.first.IsScalar())
          throw DocumentError("a key that is not a string" + where(entry.first.Mark()));
        const std::string key = entry.first.Scalar();
        if (object->has(key))
          throw DocumentError("key '" + key + "' appears twice" + where(entry.first.Mark()));
        object->set(key, toVar(entry.second));
      }
      return Var(object);
    }
  }
  return Var();
}

std::string floatText(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string text(buffer, result.ptr);
  // A float stays a float: 2.0 must not come back as the integer 2.
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

void emitString(YAML::Emitter& out, const std::string& text) {
  const bool ambiguous = plainScalarType(text) != "str" || std::regex_match(text, kYaml11Bool);
  if (ambiguous) out << YAML::DoubleQuoted;
  out << text;
}

void emit(YAML::Emitter& out, const Var& value) {
  if (value.isEmpty()) {
    out << YAML::Null;
  } else if (value.type() == typeid(Poco::JSON::Object::Ptr)) {
    const auto& object = value.extract<Poco::JSON::Object::Ptr>();
    if (object->size() == 0) out << YAML::Flow;  // {} rather than a dangling key
    out << YAML::BeginMap;
    for (const auto& key : object->getNames()) {
      out << YAML::Key;
      emitString(out, key);
      out << YAML::Value;
      emit(out, object->get(key));
    }
    out << YAML::EndMap;
  } else if (value.type() == typeid(Poco::JSON::Array::Ptr)) {
    const auto& array = value.extract<Poco::JSON::Array::Ptr>();
    if (array->size() == 0) out << YAML::Flow;
    out << YAML::BeginSeq;
    for (std::size_t i = 0; i < array->size(); ++i) emit(out, array->get(static_cast<unsigned>(i)));
    out << YAML::EndSeq;
  } else if (value.isBoolean()) {
    out << value.extract<bool>();
  } else if (value.isString()) {
    emitString(out, value.extract<std::string>());
  } else if (value.isInteger() && value.isSigned()) {
    out << value.convert<Poco::Int64>();
  } else if (value.isInteger()) {
    out << value.convert<Poco::UInt64>();
  } else if (value.isNumeric()) {
    out << floatText(value.convert<double>());
  } else {
    out << value.toString();
  }
}

}  // namespace

std::string plainScalarType(const std::string& text) {
  if (std::regex_match(text, kNull)) return "null";
  if (std::regex_match(text, kBool)) return "bool";
  if (std::regex_match(text, kInt)) return "int";
  if (std::regex_match(text, kFloat)) return "float";
  return "str";
}

std::string yamlToJson(const std::string& yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw DocumentError("not YAML or JSON: " + e.msg + where(e.mark));
  }
  std::ostringstream out;
  Poco::JSON::Stringifier::condense(toVar(root), out);
  return out.str();
}

std::string jsonToYaml(const std::string& json) {
  Var root;
  try {
    Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(true));
    root = parser.parse(json);
  } catch (const Poco::Exception& e) {
    throw DocumentError("not JSON: " + e.displayText());
  }
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, root);
  if (!out.good()) throw DocumentError("cannot write YAML: " + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

}  // namespace portico::ctl
