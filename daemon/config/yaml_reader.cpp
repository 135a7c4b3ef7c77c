#include "daemon/config/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <filesystem>
#include <regex>

#include "daemon/config/scalars.h"
#include "daemon/core/redact.h"

namespace sfkb::config {

using std::chrono::milliseconds;

const Entry* Map::find(std::string_view key) const {
  for (const auto& entry : entries) {
    if (entry.key == key) {
      return &entry;
    }
  }
  return nullptr;
}

bool Map::has(std::string_view key) const {
  const Entry* entry = find(key);
  return entry != nullptr && !entry->value.IsNull();
}

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string indexed(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string list_of(const Keys& keys) {
  std::string out;
  for (auto key : keys) {
    if (!out.empty()) {
      out += ", ";
    }
    out += key;
  }
  return out;
}

std::string kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    default:
      return "nothing";
  }
}

std::vector<Problem> Reader::take_problems() {
  // File order reads best; problems without a position (cross-entry ones) come last.
  std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
    auto key = [](const Problem& p) {
      return std::make_pair(p.line == 0 ? INT_MAX : p.line, p.column);
    };
    return key(a) < key(b);
  });
  return std::move(problems_);
}

void Reader::error(std::string path, const YAML::Mark& mark, std::string message) {
  failed_paths_.insert(path);
  Problem problem{std::move(path), std::move(message), 0, 0};
  if (!mark.is_null()) {
    problem.line = mark.line + 1;
    problem.column = mark.column + 1;
  }
  problems_.push_back(std::move(problem));
}

std::optional<Map> Reader::map(const YAML::Node& node, const std::string& path, const Keys& valid) {
  Map out;
  out.path = path;
  out.mark = node.Mark();
  if (!node.IsDefined() || node.IsNull()) {
    return out;
  }
  if (!node.IsMap()) {
    error(path, node.Mark(), "expected a mapping, got " + kind_of(node));
    return std::nullopt;
  }
  std::set<std::string, std::less<>> seen;
  for (const auto& pair : node) {
    const YAML::Node key = pair.first;
    if (!key.IsScalar()) {
      error(path, key.Mark(), "keys must be plain names, got " + kind_of(key));
      continue;
    }
    const std::string name = key.Scalar();
    if (!seen.insert(name).second) {
      error(join(path, name), key.Mark(), "duplicate key");
      continue;
    }
    if (!valid.empty() &&
        std::find(valid.begin(), valid.end(), std::string_view(name)) == valid.end()) {
      error(join(path, name), key.Mark(), "unknown key; valid keys here: " + list_of(valid));
      continue;
    }
    out.entries.push_back(Entry{name, key, pair.second});
  }
  return out;
}

Map Reader::child_map(const Map& parent, std::string_view key, const Keys& valid) {
  const std::string path = join(parent.path, key);
  const Entry* entry = parent.find(key);
  if (entry == nullptr) {
    Map empty;
    empty.path = path;
    empty.mark = parent.mark;
    return empty;
  }
  auto m = map(entry->value, path, valid);
  if (!m) {
    Map empty;
    empty.path = path;
    empty.mark = entry->key_node.Mark();
    return empty;
  }
  if (m->mark.is_null() || entry->value.IsNull()) {
    m->mark = entry->key_node.Mark();
  }
  return *m;
}

std::optional<Scalar> Reader::scalar(const Map& m, std::string_view key) {
  const Entry* entry = m.find(key);
  if (entry == nullptr || entry->value.IsNull()) {
    return std::nullopt;
  }
  return scalar_node(entry->value, join(m.path, key));
}

std::optional<Scalar> Reader::scalar_node(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) {
    error(path, node.Mark(), "expected a single value, got " + kind_of(node));
    return std::nullopt;
  }
  auto result = interpolate(node.Scalar(), env_);
  if (result.error) {
    error(path, node.Mark(), *result.error);
    return std::nullopt;
  }
  return Scalar{std::move(result.value), path, node.Mark(), node.Tag() != "!"};
}

std::optional<long long> Reader::parse_integer(const Scalar& s, long long min, long long max) {
  long long value = 0;
  auto [end, ec] = std::from_chars(s.text.data(), s.text.data() + s.text.size(), value);
  if (ec != std::errc() || end != s.text.data() + s.text.size()) {
    error(s.path, s.mark, "expected an integer, got \"" + shown(s) + "\"");
    return std::nullopt;
  }
  if (value < min || value > max) {
    error(s.path, s.mark,
          "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
              std::to_string(value));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> Reader::parse_bool(const Scalar& s) {
  std::string lowered = s.text;
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lowered == "true" || lowered == "yes" || lowered == "on") {
    return true;
  }
  if (lowered == "false" || lowered == "no" || lowered == "off") {
    return false;
  }
  error(s.path, s.mark, "expected true or false, got \"" + shown(s) + "\"");
  return std::nullopt;
}

std::optional<milliseconds> Reader::parse_duration_within(const Scalar& s, DurationRange range) {
  const std::string allowed =
      "must be between " + format_duration(range.min) + " and " + format_duration(range.max);
  auto value = parse_duration(s.text);
  if (!value) {
    // A well-formed number too large for milliseconds is out of range, not malformed.
    static const std::regex number(R"(-?[0-9]+(ms|s|m|h)?)");
    error(s.path, s.mark,
          std::regex_match(s.text, number)
              ? allowed + ", got \"" + shown(s) + "\""
              : "expected a duration such as 250ms, 20s, 15m, 1h or an integer of "
                "milliseconds, got \"" +
                    shown(s) + "\"");
    return std::nullopt;
  }
  if (*value < range.min || *value > range.max) {
    error(s.path, s.mark, allowed + ", got \"" + shown(s) + "\"");
    return std::nullopt;
  }
  return value;
}

std::optional<std::size_t> Reader::parse_choice(const Scalar& s,
                                                const std::vector<std::string_view>& names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (s.text == names[i]) {
      return i;
    }
  }
  error(s.path, s.mark, "\"" + shown(s) + "\" is not one of: " + list_of(names));
  return std::nullopt;
}

std::vector<Scalar> Reader::string_list(const Map& m, std::string_view key) {
  std::vector<Scalar> out;
  const Entry* entry = m.find(key);
  if (entry == nullptr || entry->value.IsNull()) {
    return out;
  }
  const std::string path = join(m.path, key);
  if (!entry->value.IsSequence()) {
    error(path, entry->value.Mark(), "expected a list, e.g. [a, b], got " + kind_of(entry->value));
    return out;
  }
  for (std::size_t i = 0; i < entry->value.size(); ++i) {
    if (auto s = scalar_node(entry->value[i], indexed(path, i))) {
      out.push_back(std::move(*s));
    }
  }
  return out;
}

std::vector<std::pair<Entry, Scalar>> Reader::scalar_map(const Map& m, std::string_view key) {
  std::vector<std::pair<Entry, Scalar>> out;
  const Entry* entry = m.find(key);
  if (entry == nullptr) {
    return out;
  }
  auto inner = map(entry->value, join(m.path, key), {});
  if (!inner) {
    return out;
  }
  for (const auto& e : inner->entries) {
    const std::string path = join(inner->path, e.key);
    if (e.value.IsNull()) {
      error(path, e.key_node.Mark(), "must have a value");
      continue;
    }
    if (auto s = scalar_node(e.value, path)) {
      out.emplace_back(e, std::move(*s));
    }
  }
  return out;
}

void Reader::require_non_empty(const Map& m, std::string_view key, const std::string& value,
                               const std::string& why) {
  // A value that already has a problem (e.g. an unset variable) is not reported twice.
  if (!value.empty() || failed(join(m.path, key))) {
    return;
  }
  const Entry* entry = m.find(key);
  const std::string suffix = why.empty() ? "" : " " + why;
  if (entry != nullptr) {
    error(join(m.path, key), entry->value.IsNull() ? entry->key_node.Mark() : entry->value.Mark(),
          "must not be empty" + suffix);
  } else {
    error(join(m.path, key), m.mark, "is required" + suffix);
  }
}

Located Reader::at(const Map& m, std::string_view key) const {
  const Entry* entry = m.find(key);
  return Located{join(m.path, key), entry != nullptr ? entry->value.Mark() : m.mark};
}

std::string Reader::resolve(const std::string& path) const {
  if (base_dir_.empty() || path.empty() || path.front() == '/') {
    return path;
  }
  return (std::filesystem::path(base_dir_) / path).lexically_normal().string();
}

std::string Reader::shown(const Scalar& s) {
  // The whole path: kafka.properties.sasl.oauthbearer.config is secret by its middle part.
  return core::redact_value(s.path, s.text);
}

}  // namespace sfkb::config
