#pragma once
// Small text helpers shared by the parsers of header values and comma lists.

#include <string_view>

namespace sfkb::core {

// `text` without leading and trailing blanks (space, tab) and line ends (CR, LF).
inline std::string_view trim(std::string_view text) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && blank(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && blank(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace sfkb::core
