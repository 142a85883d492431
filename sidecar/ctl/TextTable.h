#pragma once

#include <string>
#include <vector>

namespace portico::ctl {

/// Rows under a header in aligned columns (two spaces apart, the last one unpadded), as
/// kubectl and docker print them; an empty table prints its header alone.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header);

  /// Adds a row; a row shorter than the header is padded with "", a longer one is an error.
  void add(std::vector<std::string> row);
  std::size_t rows() const { return rows_.size(); }
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

/// How many columns `text` takes on a terminal: its UTF-8 code points.
std::size_t displayWidth(const std::string& text);

}  // namespace portico::ctl
