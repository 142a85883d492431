#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::metrics {

/// A label name and value of one sample.
using Label = std::pair<std::string_view, std::string_view>;

/// Writes the Prometheus text exposition format (version 0.0.4): a HELP and TYPE line per
/// family, then one line per sample, label values and help text escaped as the format requires.
class Exposition {
 public:
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

  /// Starts a family; `type` is counter, gauge, histogram or untyped.
  void family(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, const std::vector<Label>& labels, double value);
  void sample(std::string_view name, const std::vector<Label>& labels, std::uint64_t value);
  void sample(std::string_view name, const std::vector<Label>& labels, std::int64_t value);

  const std::string& text() const { return text_; }
  std::string take() { return std::move(text_); }

  /// A label value with backslash, double quote and newline escaped.
  static std::string escapeLabelValue(std::string_view value);
  /// A HELP text with backslash and newline escaped.
  static std::string escapeHelp(std::string_view help);
  /// A sample value: integers exactly, others in the shortest form that reads back the same,
  /// and +Inf, -Inf, NaN as the format spells them.
  static std::string formatValue(double value);

 private:
  void labels(const std::vector<Label>& labels);

  std::string text_;
};

}  // namespace portico::metrics
