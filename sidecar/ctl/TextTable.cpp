#include "ctl/TextTable.h"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace portico::ctl {

TextTable::TextTable(std::vector<std::string> header) : header_(std::move(header)) {
  assert(!header_.empty());
}

void TextTable::add(std::vector<std::string> row) {
  if (row.size() > header_.size()) throw std::logic_error("table row wider than its header");
  row.resize(header_.size());
  rows_.push_back(std::move(row));
}

std::size_t displayWidth(const std::string& text) {
  // UTF-8 continuation bytes (10xxxxxx) take no column of their own.
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string TextTable::render() const {
  std::vector<std::size_t> widths;
  for (const auto& h : header_) widths.push_back(displayWidth(h));
  for (const auto& row : rows_)
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], displayWidth(row[i]));
  std::string out;
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      text += cells[i];
      if (i + 1 < cells.size()) text.append(widths[i] - displayWidth(cells[i]) + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  line(header_);
  for (const auto& row : rows_) line(row);
  return out;
}

}  // namespace portico::ctl
