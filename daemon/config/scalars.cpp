#include "daemon/config/scalars.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <regex>

#include "daemon/config/loader.h"

namespace sfkb::config {

using std::chrono::milliseconds;

std::string json_escape(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string json_unescape(std::string_view quoted) {
  std::string out;
  for (std::size_t i = 1; i + 1 < quoted.size(); ++i) {
    char c = quoted[i];
    if (c != '\\' || i + 2 >= quoted.size()) {
      out += c;
      continue;
    }
    char e = quoted[++i];
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u':
        if (i + 4 < quoted.size()) {
          out += static_cast<char>(
              std::strtol(std::string(quoted.substr(i + 1, 4)).c_str(), nullptr, 16));
          i += 4;
        }
        break;
      default:
        out += e;
    }
  }
  return out;
}

std::string plain_scalar_as_json(const std::string& text) {
  static const std::regex number(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)");
  if (text == "true" || text == "false" || text == "null" || std::regex_match(text, number)) {
    return text;
  }
  return json_escape(text);
}

std::string format_duration(milliseconds value) {
  const auto ms = value.count();
  if (ms != 0 && ms % 3600000 == 0) {
    return std::to_string(ms / 3600000) + "h";
  }
  if (ms != 0 && ms % 60000 == 0) {
    return std::to_string(ms / 60000) + "m";
  }
  if (ms != 0 && ms % 1000 == 0) {
    return std::to_string(ms / 1000) + "s";
  }
  return std::to_string(ms) + "ms";
}

std::string escape_interpolation(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "${") == 0) {
      out += "$${";
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool is_log_level(std::string_view name) {
  return std::find(kLogLevels.begin(), kLogLevels.end(), name) != kLogLevels.end();
}

std::optional<milliseconds> parse_duration(std::string_view text) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) {
    return std::nullopt;
  }
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  long long factor = 0;
  if (unit.empty() || unit == "ms") {
    factor = 1;
  } else if (unit == "s") {
    factor = 1000;
  } else if (unit == "m") {
    factor = 60'000;
  } else if (unit == "h") {
    factor = 3'600'000;
  } else {
    return std::nullopt;
  }
  if (value > LLONG_MAX / factor || value < LLONG_MIN / factor) {
    return std::nullopt;
  }
  return milliseconds(value * factor);
}

}  // namespace sfkb::config
