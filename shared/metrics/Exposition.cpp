#include "metrics/Exposition.h"

#include <charconv>
#include <cmath>

namespace portico::metrics {

std::string Exposition::escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Exposition::escapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Exposition::formatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Integral values within a double's exact range print without an exponent (a counter of
  // 1500000 reads 1500000, not 1.5e+06).
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    return std::to_string(static_cast<long long>(value));
  }
  char buffer[32];
  const auto r = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, r.ptr);
}

void Exposition::family(std::string_view name, std::string_view help, std::string_view type) {
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  text_ += escapeHelp(help);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type;
  text_ += '\n';
}

void Exposition::labels(const std::vector<Label>& labels) {
  bool first = true;
  for (const auto& [name, value] : labels) {
    // Prometheus holds an empty label value the same as no label: left out, so a label added to
    // a family later (the route's `host`) does not rename the series that have none.
    if (value.empty()) continue;
    text_ += first ? '{' : ',';
    first = false;
    text_ += name;
    text_ += "=\"";
    text_ += escapeLabelValue(value);
    text_ += '"';
  }
  if (!first) text_ += '}';
}

void Exposition::sample(std::string_view name, const std::vector<Label>& l, double value) {
  text_ += name;
  labels(l);
  text_ += ' ';
  text_ += formatValue(value);
  text_ += '\n';
}

void Exposition::sample(std::string_view name, const std::vector<Label>& l, std::uint64_t value) {
  text_ += name;
  labels(l);
  text_ += ' ';
  text_ += std::to_string(value);
  text_ += '\n';
}

void Exposition::sample(std::string_view name, const std::vector<Label>& l, std::int64_t value) {
  text_ += name;
  labels(l);
  text_ += ' ';
  text_ += std::to_string(value);
  text_ += '\n';
}

}  // namespace portico::metrics
