// `${VAR}` / `${VAR:-default}` inside scalars (loader.h: interpolate) and the process environment.

#include <cstdlib>
#include <regex>

#include "daemon/config/loader.h"

namespace sfkb::config {

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

Interpolated interpolate(std::string_view text, const EnvLookup& env) {
  Interpolated out;
  std::vector<std::string> unset;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out.value += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out.value += text[i++];
      continue;
    }
    const auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      out.error = "unterminated \"${\" (write $${ for a literal ${)";
      return out;
    }
    const std::string_view inner = text.substr(i + 2, close - i - 2);
    const auto separator = inner.find(":-");
    const std::string name(inner.substr(0, separator));
    static const std::regex valid_name("[A-Za-z_][A-Za-z0-9_]*");
    if (!std::regex_match(name, valid_name)) {
      out.error = "\"${" + std::string(inner) +
                  "}\" is not ${VAR} or ${VAR:-default} (variable names are letters, digits "
                  "and _)";
      return out;
    }
    const auto value = env(name);
    if (value && !value->empty()) {
      out.value += *value;
    } else if (separator != std::string_view::npos) {
      out.value += inner.substr(separator + 2);
    } else if (!value) {
      unset.push_back(name);
    }
    i = close + 1;
  }
  if (!unset.empty()) {
    std::string names;
    for (const auto& name : unset) {
      names += (names.empty() ? "" : ", ") + name;
    }
    if (unset.size() == 1) {
      out.error = "environment variable " + names + " is not set and has no default (write ${" +
                  names + ":-default} for one)";
    } else {
      out.error = "environment variables " + names + " are not set and have no default";
    }
  }
  return out;
}

}  // namespace sfkb::config
