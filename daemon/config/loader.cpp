#include "daemon/config/loader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include <librdkafka/rdkafka.h>
#include <yaml-cpp/yaml.h>

#include "daemon/core/redact.h"
#include "daemon/core/url.h"

namespace sfkb::config {
namespace {

using std::chrono::milliseconds;
using Keys = std::initializer_list<std::string_view>;

// Kafka's own limit on topic names (kafka.common.internals.Topic).
constexpr std::size_t kMaxTopicLength = 249;
constexpr int kMinApiVersion = 37;  // CometD refuses anything older
// Config files and the files they name (keys, CA bundles) are small; the bound keeps a wrong
// path such as /dev/zero or /dev/urandom from reading forever. Pipes (--config <(...)) still work.
constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;

// Reads all of `path` into `content`; on failure returns the reason (without the path).
std::optional<std::string> read_bounded(const std::string& path, std::string& content) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return std::strerror(errno);
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> owner(file, &std::fclose);
  content.clear();
  char buffer[8192];
  while (std::size_t n = std::fread(buffer, 1, sizeof(buffer), file)) {
    content.append(buffer, n);
    if (content.size() > kMaxFileBytes) {
      return "larger than " + std::to_string(kMaxFileBytes / (1024 * 1024)) +
             " MiB; is it the right file?";
    }
  }
  if (std::ferror(file)) {
    return std::strerror(errno);
  }
  return std::nullopt;
}

// librdkafka properties the bridge sets itself: overriding them would silently break the
// guarantees of docs/ARCHITECTURE.md §1/§4, so they are refused with the reason instead.
constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kReservedProperties = {{
    {"bootstrap.servers", "set kafka.bootstrap_servers instead"},
    {"metadata.broker.list", "set kafka.bootstrap_servers instead"},
    {"group.id", "set publish[].group_id instead"},
    {"enable.idempotence", "the bridge always enables it (no duplicates, no reordering)"},
    {"enable.gapless.guarantee",
     "the bridge always enables it (resume rule, docs/ARCHITECTURE.md §4)"},
    {"acks", "the bridge always uses acks=all"},
    {"request.required.acks", "the bridge always uses acks=all"},
    {"message.timeout.ms", "the bridge waits for the broker as long as it takes (0)"},
    {"delivery.timeout.ms", "the bridge waits for the broker as long as it takes (0)"},
    {"enable.auto.commit", "offsets are committed only after Salesforce accepted the records"},
    {"enable.auto.offset.store", "offsets are stored only after Salesforce accepted the records"},
    {"transactional.id", "the bridge does not use Kafka transactions"},
}};

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string indexed(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string list_of(Keys keys) {
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

// Returns what is wrong with a Kafka topic name, or an empty string.
std::string topic_name_problem(std::string_view topic, std::string_view prefix) {
  if (topic.empty()) {
    return "must not be empty";
  }
  static const std::regex legal("[A-Za-z0-9._-]+");
  if (!std::regex_match(topic.begin(), topic.end(), legal)) {
    return "\"" + std::string(topic) +
           "\" is not a legal Kafka topic name (only letters, digits, '.', '_' and '-')";
  }
  if (topic == "." || topic == "..") {
    return "\"" + std::string(topic) + "\" is not a legal Kafka topic name";
  }
  if (prefix.size() + topic.size() > kMaxTopicLength) {
    return "\"" + std::string(prefix) + std::string(topic) + "\" is longer than " +
           std::to_string(kMaxTopicLength) + " characters (with kafka.topic_prefix)";
  }
  return {};
}

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

// Inverse of json_escape for the escapes it produces (and the other short JSON escapes).
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

// A plain (unquoted) YAML scalar as a JSON scalar: numbers, booleans and null stay raw.
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

// Returns what is wrong with a login or instance URL, or an empty string. TLS is never off, so
// plain http is accepted only for loopback hosts (the emulator on this machine): core/url.h.
std::string url_problem(std::string_view url) {
  return core::web_url_problem(url);
}

// Returns what is wrong with a "host:port" (listen address or broker), or an empty string.
std::string host_port_problem(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return "\"" + std::string(text) + "\" is not host:port";
  }
  auto port_text = text.substr(colon + 1);
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return "\"" + std::string(text) + "\" has no valid port (0-65535)";
  }
  return {};
}

// librdkafka's verdicts may end in a newline or span lines; a problem is one line
// ("path: message (line N, column M)"), so whitespace runs become one space.
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && (out.empty() || out.back() == ' ')) {
      continue;
    }
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

// librdkafka may quote the value it refuses; a secret one is hidden (core/redact.h).
std::string hide_value(std::string text, const std::string& key, const std::string& value) {
  if (!value.empty() && core::redact_value(key, value) != value) {
    for (auto pos = text.find(value); pos != std::string::npos; pos = text.find(value, pos)) {
      text.replace(pos, value.size(), core::kRedacted);
      pos += core::kRedacted.size();
    }
  }
  return core::redact_text(text);
}

struct RdKafkaConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};

// Checks one librdkafka property the way librdkafka itself will, so its message reaches the
// user at load time instead of at the first connection.
std::string rdkafka_property_problem(const std::string& key, const std::string& value) {
  for (const auto& [reserved, why] : kReservedProperties) {
    if (key == reserved) {
      return "cannot be set here: " + std::string(why);
    }
  }
  std::unique_ptr<rd_kafka_conf_t, RdKafkaConfDeleter> conf(rd_kafka_conf_new());
  char errstr[512] = {0};
  if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    return "librdkafka: " + one_line(hide_value(errstr, key, value));
  }
  return {};
}

// One key/value pair of a YAML mapping, with the key's node for its position.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// A YAML mapping read once: its entries in file order, its path and where it starts. An absent
// mapping is an empty Map, so every field keeps its default.
struct Map {
  std::string path;
  YAML::Mark mark = YAML::Mark::null_mark();
  std::vector<Entry> entries;

  const Entry* find(std::string_view key) const {
    for (const auto& entry : entries) {
      if (entry.key == key) {
        return &entry;
      }
    }
    return nullptr;
  }
  // Present with a non-null value.
  bool has(std::string_view key) const {
    const Entry* entry = find(key);
    return entry != nullptr && !entry->value.IsNull();
  }
};

// An interpolated scalar with where it came from.
struct Scalar {
  std::string text;
  std::string path;
  YAML::Mark mark;
  bool plain = true;  // written without quotes (matters for static_fields' JSON types)
};

// Where a topic is named, for the cross-checks between mappings.
struct TopicUse {
  std::string topic;
  std::string path;
  YAML::Mark mark;
};

class Loader {
 public:
  Loader(const EnvLookup& env, std::string base_dir) : env_(env), base_dir_(std::move(base_dir)) {}

  std::vector<Problem> take_problems() {
    // File order reads best; problems without a position (cross-entry ones) come last.
    std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
      auto key = [](const Problem& p) {
        return std::make_pair(p.line == 0 ? INT_MAX : p.line, p.column);
      };
      return key(a) < key(b);
    });
    return std::move(problems_);
  }

  void error(std::string path, const YAML::Mark& mark, std::string message) {
    failed_paths_.insert(path);
    Problem problem{std::move(path), std::move(message), 0, 0};
    if (!mark.is_null()) {
      problem.line = mark.line + 1;
      problem.column = mark.column + 1;
    }
    problems_.push_back(std::move(problem));
  }

  Config read(const YAML::Node& root) {
    Config config;
    auto top = map(root, "",
                   {"salesforce", "kafka", "checkpoint", "limits", "subscribe", "publish", "http",
                    "logging", "shutdown"});
    if (!top) {
      return config;
    }
    read_salesforce(child_map(*top, "salesforce",
                              {"login_url", "api_version", "auth", "ca_file", "connect_timeout",
                               "request_timeout", "retry"}),
                    config.salesforce);
    read_kafka(
        child_map(*top, "kafka",
                  {"bootstrap_servers", "topic_prefix", "properties", "embedded", "flush_timeout"}),
        config.kafka);
    {
      Map m = child_map(*top, "checkpoint", {"directory", "interval"});
      if (auto s = scalar(m, "directory")) {
        config.checkpoint.directory = resolve(s->text);
      }
      require_non_empty(m, "directory", config.checkpoint.directory);
      read_duration(m, "interval", config.checkpoint.interval, bounds::kCheckpointInterval);
    }
    {
      Map m = child_map(*top, "limits", {"max_in_flight_events"});
      read_integer(m, "max_in_flight_events", config.limits.max_in_flight_events,
                   bounds::kMaxInFlightEvents.min, bounds::kMaxInFlightEvents.max);
    }
    read_subscribe(*top, config);
    read_publish(*top, config);
    {
      Map m = child_map(*top, "http", {"listen"});
      if (auto s = scalar(m, "listen")) {
        config.http.listen = s->text;
        if (!s->text.empty()) {
          if (auto problem = host_port_problem(s->text); !problem.empty()) {
            error(s->path, s->mark, problem);
          }
        }
      }
    }
    {
      Map m = child_map(*top, "logging", {"level", "format"});
      if (auto s = scalar(m, "level")) {
        if (is_log_level(s->text)) {
          config.logging.level = s->text;
        } else {
          error(s->path, s->mark,
                "\"" + s->text + "\" is not a log level; valid: " +
                    list_of({"trace", "debug", "info", "warn", "error", "critical", "off"}));
        }
      }
      read_enum(m, "format", config.logging.format,
                {{"text", LogFormat::kText}, {"json", LogFormat::kJson}});
    }
    {
      Map m = child_map(*top, "shutdown", {"timeout"});
      read_duration(m, "timeout", config.shutdown.timeout, bounds::kShutdownTimeout);
    }
    cross_check(config, top->mark);
    return config;
  }

 private:
  // --- generic readers ----------------------------------------------------------------------

  // Reads a mapping, reporting duplicate keys and keys not in `valid` (an empty `valid` accepts
  // any key, for free-form maps such as kafka.properties).
  std::optional<Map> map(const YAML::Node& node, const std::string& path, Keys valid) {
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
      if (valid.size() != 0 &&
          std::find(valid.begin(), valid.end(), std::string_view(name)) == valid.end()) {
        error(join(path, name), key.Mark(), "unknown key; valid keys here: " + list_of(valid));
        continue;
      }
      out.entries.push_back(Entry{name, key, pair.second});
    }
    return out;
  }

  // A nested mapping; when it is the wrong type the problem is recorded and an empty Map (all
  // defaults) is returned so that the rest of the file is still checked.
  Map child_map(const Map& parent, std::string_view key, Keys valid) {
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

  // The interpolated scalar at `key`; nullopt when absent, null, or wrong (problem recorded).
  std::optional<Scalar> scalar(const Map& m, std::string_view key) {
    const Entry* entry = m.find(key);
    if (entry == nullptr || entry->value.IsNull()) {
      return std::nullopt;
    }
    return scalar_node(entry->value, join(m.path, key));
  }

  std::optional<Scalar> scalar_node(const YAML::Node& node, const std::string& path) {
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

  void read_string(const Map& m, std::string_view key, std::string& out) {
    if (auto s = scalar(m, key)) {
      out = std::move(s->text);
    }
  }

  // Reports an empty required value: at the value when the key is there, else at its mapping.
  void require_non_empty(const Map& m, std::string_view key, const std::string& value,
                         const std::string& why = {}) {
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

  template <typename Int>
  void read_integer(const Map& m, std::string_view key, Int& out, long long min, long long max) {
    auto s = scalar(m, key);
    if (!s) {
      return;
    }
    if (auto value = parse_integer(*s, min, max)) {
      out = static_cast<Int>(*value);
    }
  }

  std::optional<long long> parse_integer(const Scalar& s, long long min, long long max) {
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

  void read_bool(const Map& m, std::string_view key, bool& out) {
    auto s = scalar(m, key);
    if (!s) {
      return;
    }
    std::string lowered = s->text;
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lowered == "true" || lowered == "yes" || lowered == "on") {
      out = true;
    } else if (lowered == "false" || lowered == "no" || lowered == "off") {
      out = false;
    } else {
      error(s->path, s->mark, "expected true or false, got \"" + shown(*s) + "\"");
    }
  }

  // A duration within `range` (config.h's bounds).
  void read_duration(const Map& m, std::string_view key, milliseconds& out, DurationRange range) {
    auto s = scalar(m, key);
    if (!s) {
      return;
    }
    const std::string allowed =
        "must be between " + format_duration(range.min) + " and " + format_duration(range.max);
    auto value = parse_duration(s->text);
    if (!value) {
      // A well-formed number too large for milliseconds is out of range, not malformed.
      static const std::regex number(R"(-?[0-9]+(ms|s|m|h)?)");
      error(s->path, s->mark,
            std::regex_match(s->text, number)
                ? allowed + ", got \"" + shown(*s) + "\""
                : "expected a duration such as 250ms, 20s, 15m, 1h or an integer of "
                  "milliseconds, got \"" +
                      shown(*s) + "\"");
      return;
    }
    if (*value < range.min || *value > range.max) {
      error(s->path, s->mark, allowed + ", got \"" + shown(*s) + "\"");
      return;
    }
    out = *value;
  }

  template <typename E>
  void read_enum(const Map& m, std::string_view key, E& out,
                 std::initializer_list<std::pair<std::string_view, E>> names) {
    auto s = scalar(m, key);
    if (!s) {
      return;
    }
    std::string valid;
    for (const auto& [name, value] : names) {
      if (s->text == name) {
        out = value;
        return;
      }
      valid += (valid.empty() ? "" : ", ") + std::string(name);
    }
    error(s->path, s->mark, "\"" + shown(*s) + "\" is not one of: " + valid);
  }

  // A list of strings; a scalar where a list belongs is a type error.
  std::vector<Scalar> read_string_list(const Map& m, std::string_view key) {
    std::vector<Scalar> out;
    const Entry* entry = m.find(key);
    if (entry == nullptr || entry->value.IsNull()) {
      return out;
    }
    const std::string path = join(m.path, key);
    if (!entry->value.IsSequence()) {
      error(path, entry->value.Mark(),
            "expected a list, e.g. [a, b], got " + kind_of(entry->value));
      return out;
    }
    for (std::size_t i = 0; i < entry->value.size(); ++i) {
      if (auto s = scalar_node(entry->value[i], indexed(path, i))) {
        out.push_back(std::move(*s));
      }
    }
    return out;
  }

  // A mapping of names to scalars (rename, static_fields, kafka.properties).
  std::vector<std::pair<Entry, Scalar>> read_scalar_map(const Map& m, std::string_view key) {
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

  // The text of a value for a problem message; secrets are never echoed.
  static std::string shown(const Scalar& s) {
    // The whole path: kafka.properties.sasl.oauthbearer.config is secret by its middle part.
    return core::redact_value(s.path, s.text);
  }

  bool failed(const std::string& path) const { return failed_paths_.count(path) != 0; }

  // --- sections ---------------------------------------------------------------------------

  void read_salesforce(const Map& m, SalesforceConfig& out) {
    if (auto s = scalar(m, "login_url")) {
      out.login_url = s->text;
      if (auto problem = url_problem(s->text); !problem.empty()) {
        error(s->path, s->mark, problem);
      }
    }
    if (auto s = scalar(m, "api_version")) {
      static const std::regex version(R"(([0-9]+)\.0)");
      std::smatch match;
      if (!std::regex_match(s->text, match, version)) {
        error(s->path, s->mark, "\"" + s->text + "\" is not an API version such as \"62.0\"");
      } else if (std::stoi(match[1].str()) < kMinApiVersion) {
        error(s->path, s->mark,
              "must be " + std::to_string(kMinApiVersion) +
                  ".0 or later (the oldest version CometD accepts)");
      } else {
        out.api_version = s->text;
      }
    }
    if (auto s = scalar(m, "ca_file")) {
      s->text = resolve(s->text);
      out.ca_file = s->text;
      if (!out.ca_file.empty()) {
        check_readable_file(*s, false);
      }
    }
    read_duration(m, "connect_timeout", out.connect_timeout, bounds::kConnectTimeout);
    read_duration(m, "request_timeout", out.request_timeout, bounds::kRequestTimeout);
    {
      Map r = child_map(m, "retry", {"initial_backoff", "max_backoff", "daily_limit_backoff"});
      read_duration(r, "initial_backoff", out.retry.initial_backoff, bounds::kBackoff);
      read_duration(r, "max_backoff", out.retry.max_backoff, bounds::kBackoff);
      read_duration(r, "daily_limit_backoff", out.retry.daily_limit_backoff,
                    bounds::kDailyLimitBackoff);
      if (out.retry.initial_backoff > out.retry.max_backoff) {
        const Entry* at = r.find("initial_backoff");
        error(join(r.path, "initial_backoff"), at ? at->value.Mark() : r.mark,
              "must not exceed max_backoff (" + format_duration(out.retry.max_backoff) + ")");
      }
    }
    read_auth(
        child_map(m, "auth",
                  {"flow", "client_id", "client_secret", "username", "password", "refresh_token",
                   "private_key_file", "private_key", "audience", "access_token", "instance_url"}),
        out.auth);
  }

  void read_auth(const Map& m, AuthConfig& out) {
    if (m.find("flow") == nullptr) {
      error(join(m.path, "flow"), m.mark,
            "is required; one of: jwt_bearer, client_credentials, refresh_token, password, "
            "access_token");
    }
    bool flow_known = true;
    if (auto s = scalar(m, "flow")) {
      const std::size_t before = problems_.size();
      read_enum(m, "flow", out.flow,
                {{"jwt_bearer", AuthFlow::kJwtBearer},
                 {"client_credentials", AuthFlow::kClientCredentials},
                 {"refresh_token", AuthFlow::kRefreshToken},
                 {"password", AuthFlow::kPassword},
                 {"access_token", AuthFlow::kAccessToken}});
      flow_known = problems_.size() == before;
    } else {
      flow_known = false;
    }
    read_string(m, "client_id", out.client_id);
    read_string(m, "client_secret", out.client_secret);
    read_string(m, "username", out.username);
    read_string(m, "password", out.password);
    read_string(m, "refresh_token", out.refresh_token);
    read_string(m, "private_key", out.private_key);
    read_string(m, "audience", out.audience);
    read_string(m, "access_token", out.access_token);
    auto key_file = scalar(m, "private_key_file");
    if (key_file) {
      key_file->text = resolve(key_file->text);
      out.private_key_file = key_file->text;
    }
    if (auto s = scalar(m, "instance_url")) {
      out.instance_url = s->text;
      if (!s->text.empty()) {
        if (auto problem = url_problem(s->text); !problem.empty()) {
          error(s->path, s->mark, problem);
        }
      }
    }
    if (!flow_known) {
      return;  // which fields are required depends on the flow
    }

    auto need = [&](std::string_view key, const std::string& value, std::string_view flow) {
      require_non_empty(m, key, value, "for auth flow " + std::string(flow));
    };
    switch (out.flow) {
      case AuthFlow::kJwtBearer:
        need("client_id", out.client_id, "jwt_bearer");
        need("username", out.username, "jwt_bearer");
        if (out.private_key_file.empty() && out.private_key.empty()) {
          error(join(m.path, "private_key_file"), m.mark,
                "is required for auth flow jwt_bearer (or private_key with the PEM itself)");
        } else if (!out.private_key_file.empty() && !out.private_key.empty()) {
          error(join(m.path, "private_key"), m.find("private_key")->value.Mark(),
                "set either private_key_file or private_key, not both");
        } else if (key_file && !out.private_key_file.empty()) {
          check_readable_file(*key_file, true);
        } else if (out.private_key.find("PRIVATE KEY-----") == std::string::npos) {
          error(join(m.path, "private_key"), m.find("private_key")->value.Mark(),
                "does not hold a PEM private key (-----BEGIN ... PRIVATE KEY-----)");
        }
        break;
      case AuthFlow::kClientCredentials:
        need("client_id", out.client_id, "client_credentials");
        need("client_secret", out.client_secret, "client_credentials");
        break;
      case AuthFlow::kRefreshToken:
        need("client_id", out.client_id, "refresh_token");
        need("refresh_token", out.refresh_token, "refresh_token");
        break;
      case AuthFlow::kPassword:
        need("client_id", out.client_id, "password");
        need("client_secret", out.client_secret, "password");
        need("username", out.username, "password");
        need("password", out.password, "password");
        break;
      case AuthFlow::kAccessToken:
        need("access_token", out.access_token, "access_token");
        need("instance_url", out.instance_url, "access_token");
        break;
    }
  }

  // A file named in the config must be readable now, not at the first reconnect hours later.
  void check_readable_file(const Scalar& s, bool private_key) {
    std::string content;
    if (auto failure = read_bounded(s.text, content)) {
      error(s.path, s.mark, "cannot read \"" + s.text + "\": " + *failure);
      return;
    }
    if (private_key && content.find("PRIVATE KEY-----") == std::string::npos) {
      error(s.path, s.mark,
            "\"" + s.text + "\" does not hold a PEM private key (-----BEGIN ... PRIVATE KEY-----)");
    }
  }

  void read_kafka(const Map& m, KafkaConfig& out) {
    read_bool(m, "embedded", out.embedded);
    read_duration(m, "flush_timeout", out.flush_timeout, bounds::kFlushTimeout);
    if (auto s = scalar(m, "topic_prefix")) {
      out.topic_prefix = s->text;
      static const std::regex legal("[A-Za-z0-9._-]*");
      if (!std::regex_match(out.topic_prefix, legal)) {
        error(s->path, s->mark,
              "\"" + s->text +
                  "\" may hold only letters, digits, '.', '_' and '-' (it prefixes topic names)");
      }
    }
    if (auto s = scalar(m, "bootstrap_servers")) {
      out.bootstrap_servers = s->text;
      // Heroku's KAFKA_URL is a comma-separated list of kafka+ssl://host:port, taken as is.
      static const std::regex scheme(R"(^[A-Za-z][A-Za-z0-9+]*://)");
      std::stringstream list(s->text);
      for (std::string broker; std::getline(list, broker, ',');) {
        broker = std::regex_replace(broker, scheme, "");
        broker.erase(0, broker.find_first_not_of(' '));
        broker.erase(broker.find_last_not_of(' ') + 1);
        if (auto problem = host_port_problem(broker); !problem.empty()) {
          error(s->path, s->mark, "broker " + problem);
        }
      }
    }
    // Heroku's Apache Kafka add-on (docs/ARCHITECTURE.md §6): with KAFKA_URL and KAFKA_PREFIX in
    // the environment, Kafka needs no YAML at all; values written in the file win. The certificates
    // (KAFKA_TRUSTED_CERT, KAFKA_CLIENT_CERT, KAFKA_CLIENT_CERT_KEY) rotate, so the Kafka module
    // reads them at start-up instead of this loader.
    if (!out.embedded && out.bootstrap_servers.empty()) {
      if (auto url = env_("KAFKA_URL"); url && !url->empty()) {
        out.bootstrap_servers = *url;
      }
    }
    if (out.topic_prefix.empty()) {
      if (auto prefix = env_("KAFKA_PREFIX"); prefix && !prefix->empty()) {
        out.topic_prefix = *prefix;
      }
    }
    if (!out.embedded) {
      require_non_empty(m, "bootstrap_servers", out.bootstrap_servers,
                        "(unless kafka.embedded is true or $KAFKA_URL is set)");
    }
    for (auto& [entry, value] : read_scalar_map(m, "properties")) {
      if (auto problem = rdkafka_property_problem(entry.key, value.text); !problem.empty()) {
        error(value.path, entry.key_node.Mark(), problem);
        continue;
      }
      out.properties[entry.key] = value.text;
    }
  }

  void read_subscribe(const Map& top, Config& config) {
    const Entry* entry = top.find("subscribe");
    if (entry == nullptr || entry->value.IsNull()) {
      return;
    }
    if (!entry->value.IsSequence()) {
      error("subscribe", entry->value.Mark(),
            "expected a list of mappings, got " + kind_of(entry->value));
      return;
    }
    for (std::size_t i = 0; i < entry->value.size(); ++i) {
      const YAML::Node node = entry->value[i];
      auto m =
          map(node, indexed("subscribe", i),
              {"channel", "topic", "start", "key", "value", "headers", "on_invalid_replay_id"});
      if (!m) {
        continue;
      }
      if (node.IsNull()) {
        error(m->path, node.Mark(), "is empty; needs at least channel and topic");
        continue;
      }
      SubscribeMapping mapping;
      if (auto s = scalar(*m, "channel")) {
        mapping.channel = s->text;
        static const std::regex channel(R"(/(event|data|topic)/[A-Za-z][A-Za-z0-9_]*)");
        if (!s->text.empty() && !std::regex_match(s->text, channel)) {
          error(s->path, s->mark,
                "\"" + s->text +
                    "\" is not a channel; expected /event/<Name>__e, /data/<Name> or "
                    "/topic/<Name>");
        }
        if (!s->text.empty()) {
          channels_.push_back({s->text, s->path, s->mark});
        }
      }
      require_non_empty(*m, "channel", mapping.channel);
      if (auto s = scalar(*m, "topic")) {
        mapping.topic = s->text;
        if (!s->text.empty()) {
          if (auto problem = topic_name_problem(s->text, config.kafka.topic_prefix);
              !problem.empty()) {
            error(s->path, s->mark, problem);
          }
          destinations_.push_back({s->text, s->path, s->mark});
        }
      }
      require_non_empty(*m, "topic", mapping.topic);
      if (auto s = scalar(*m, "start")) {
        if (s->text == "latest") {
          mapping.start = core::kCometdLatest;
        } else if (s->text == "earliest") {
          mapping.start = core::kCometdEarliest;
        } else if (s->text.empty() ||
                   !(std::isdigit(static_cast<unsigned char>(s->text[0])) || s->text[0] == '-')) {
          error(s->path, s->mark,
                "expected latest, earliest or a replay ID, got \"" + s->text + "\"");
        } else if (auto value = parse_integer(*s, core::kCometdEarliest, INT64_MAX)) {
          mapping.start = *value;
        }
      }
      if (auto s = scalar(*m, "key")) {
        if (s->text == "none") {
          mapping.key = KeyKind::kNone;
        } else if (s->text == "event_uuid") {
          mapping.key = KeyKind::kEventUuid;
          // Only platform events carry an EventUuid (README.md "Channel kinds"): on the other
          // kinds every record would get a null key.
          const bool push_topic = mapping.channel.starts_with("/topic/");
          if (push_topic || mapping.channel.starts_with("/data/")) {
            error(s->path, s->mark,
                  std::string("event_uuid is not available on ") +
                      (push_topic ? "/topic/" : "/data/") +
                      " channels: Salesforce sends no EventUuid for " +
                      (push_topic ? "PushTopic" : "change") +
                      " events; use none, replay_id or payload.<Field>");
          }
        } else if (s->text == "replay_id") {
          mapping.key = KeyKind::kReplayId;
        } else if (s->text.rfind("payload.", 0) == 0 && s->text.size() > 8) {
          mapping.key = KeyKind::kPayloadField;
          mapping.key_field = s->text.substr(8);
        } else {
          error(s->path, s->mark,
                "\"" + s->text +
                    "\" is not a key; expected none, event_uuid, replay_id or payload.<Field>");
        }
      }
      read_enum(*m, "value", mapping.value,
                {{"payload", ValueKind::kPayload}, {"envelope", ValueKind::kEnvelope}});
      read_bool(*m, "headers", mapping.headers);
      read_enum(*m, "on_invalid_replay_id", mapping.on_invalid_replay_id,
                {{"earliest", InvalidReplayPolicy::kEarliest},
                 {"latest", InvalidReplayPolicy::kLatest},
                 {"fail", InvalidReplayPolicy::kFail}});
      config.subscribe.push_back(std::move(mapping));
    }
  }

  void read_publish(const Map& top, Config& config) {
    const Entry* entry = top.find("publish");
    if (entry == nullptr || entry->value.IsNull()) {
      return;
    }
    if (!entry->value.IsSequence()) {
      error("publish", entry->value.Mark(),
            "expected a list of mappings, got " + kind_of(entry->value));
      return;
    }
    for (std::size_t i = 0; i < entry->value.size(); ++i) {
      const YAML::Node node = entry->value[i];
      auto m = map(node, indexed("publish", i),
                   {"topics", "event", "rename", "static_fields", "key_field", "dead_letter_topic",
                    "batch_size", "linger_ms", "on_error", "group_id"});
      if (!m) {
        continue;
      }
      if (node.IsNull()) {
        error(m->path, node.Mark(), "is empty; needs at least topics and event");
        continue;
      }
      PublishMapping mapping;
      const std::size_t problems_before_topics = problems_.size();
      for (auto& s : read_string_list(*m, "topics")) {
        if (auto problem = topic_name_problem(s.text, config.kafka.topic_prefix);
            !problem.empty()) {
          error(s.path, s.mark, problem);
        } else {
          sources_.push_back({s.text, s.path, s.mark});
        }
        mapping.topics.push_back(std::move(s.text));
      }
      // One problem per cause: a list that is not a list, or whose entries failed (e.g. an unset
      // variable), was reported already and is not "empty" as well.
      if (mapping.topics.empty() && problems_.size() == problems_before_topics) {
        const Entry* topics = m->find("topics");
        error(join(m->path, "topics"), topics ? topics->value.Mark() : m->mark,
              topics ? "must list at least one topic" : "is required");
      }
      if (auto s = scalar(*m, "event")) {
        mapping.event = s->text;
        static const std::regex event(R"([A-Za-z][A-Za-z0-9_]*__e)");
        if (!s->text.empty() && !std::regex_match(s->text, event)) {
          error(s->path, s->mark,
                "\"" + s->text + "\" is not a platform event API name such as Order_Event__e");
        }
      }
      require_non_empty(*m, "event", mapping.event);
      for (auto& [e, value] : read_scalar_map(*m, "rename")) {
        if (value.text.empty()) {
          error(value.path, value.mark, "must name the event field");
          continue;
        }
        mapping.rename[e.key] = value.text;
      }
      for (auto& [e, value] : read_scalar_map(*m, "static_fields")) {
        mapping.static_fields[e.key] =
            value.plain ? plain_scalar_as_json(value.text) : json_escape(value.text);
      }
      read_string(*m, "key_field", mapping.key_field);
      if (auto s = scalar(*m, "dead_letter_topic")) {
        mapping.dead_letter_topic = s->text;
        if (!s->text.empty()) {
          if (auto problem = topic_name_problem(s->text, config.kafka.topic_prefix);
              !problem.empty()) {
            error(s->path, s->mark, problem);
          }
          dead_letters_.push_back({s->text, s->path, s->mark});
        }
      }
      read_integer(*m, "batch_size", mapping.batch_size, bounds::kBatchSize.min,
                   bounds::kBatchSize.max);
      {
        long long linger = mapping.linger.count();
        read_integer(*m, "linger_ms", linger, bounds::kLingerMs.min, bounds::kLingerMs.max);
        mapping.linger = milliseconds(linger);
      }
      read_enum(*m, "on_error", mapping.on_error,
                {{"dead_letter", OnError::kDeadLetter}, {"fail", OnError::kFail}});
      if (mapping.on_error == OnError::kDeadLetter && !failed(join(m->path, "on_error"))) {
        require_non_empty(*m, "dead_letter_topic", mapping.dead_letter_topic,
                          "with on_error: dead_letter (or set on_error: fail)");
      }
      read_string(*m, "group_id", mapping.group_id);
      require_non_empty(*m, "group_id", mapping.group_id);
      config.publish.push_back(std::move(mapping));
    }
  }

  // Checks that need the whole file: duplicates and loops between the two directions.
  void cross_check(const Config& config, const YAML::Mark& root_mark) {
    if (config.subscribe.empty() && config.publish.empty() && problems_.empty()) {
      error("", root_mark, "subscribe and publish are both empty: nothing to bridge");
    }
    auto first_use = [](const std::vector<TopicUse>& uses, std::size_t before,
                        const std::string& topic) -> const TopicUse* {
      for (std::size_t i = 0; i < before && i < uses.size(); ++i) {
        if (uses[i].topic == topic) {
          return &uses[i];
        }
      }
      return nullptr;
    };
    for (std::size_t i = 0; i < channels_.size(); ++i) {
      if (auto* earlier = first_use(channels_, i, channels_[i].topic)) {
        error(
            channels_[i].path, channels_[i].mark,
            "duplicate channel \"" + channels_[i].topic + "\" (already in " + earlier->path + ")");
      }
    }
    for (const auto& source : sources_) {
      // A topic may be both a subscribe destination and a publish source (event A -> topic ->
      // event B is a legitimate round trip, and the demo's), but publishing a topic's records as
      // the very event whose channel fills that topic would loop forever.
      std::size_t publish_index = 0;
      if (std::sscanf(source.path.c_str(), "publish[%zu]", &publish_index) == 1 &&
          publish_index < config.publish.size()) {
        const auto& event = config.publish[publish_index].event;
        for (std::size_t i = 0; i < config.subscribe.size(); ++i) {
          const auto& sub = config.subscribe[i];
          if (sub.topic == source.topic && sub.channel == "/event/" + event) {
            error(source.path, source.mark,
                  "topic \"" + source.topic + "\" is filled from " + sub.channel + " (subscribe[" +
                      std::to_string(i) + "]) and published back as " + event + ": a loop");
          }
        }
      }
      if (auto* dlq = first_use(dead_letters_, dead_letters_.size(), source.topic)) {
        error(source.path, source.mark,
              "topic \"" + source.topic + "\" is also a dead-letter topic (" + dlq->path + ")");
      }
    }
    for (const auto& dlq : dead_letters_) {
      if (auto* dest = first_use(destinations_, destinations_.size(), dlq.topic)) {
        error(dlq.path, dlq.mark,
              "topic \"" + dlq.topic + "\" is also a subscribe destination (" + dest->path + ")");
      }
    }
  }

  // Relative paths in the file are relative to the file's directory (as in Prometheus), so a
  // config and its key can move together; empty: the working directory.
  std::string resolve(const std::string& path) const {
    if (base_dir_.empty() || path.empty() || path.front() == '/') {
      return path;
    }
    return (std::filesystem::path(base_dir_) / path).lexically_normal().string();
  }

  const EnvLookup& env_;
  const std::string base_dir_;
  std::vector<Problem> problems_;
  std::set<std::string, std::less<>> failed_paths_;
  std::vector<TopicUse> channels_;
  std::vector<TopicUse> destinations_;  // subscribe[].topic
  std::vector<TopicUse> sources_;       // publish[].topics
  std::vector<TopicUse> dead_letters_;  // publish[].dead_letter_topic
};

// --- the effective configuration as YAML ----------------------------------------------------

// Keeps `${` literal when the dump is loaded again.
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

void emit_string(YAML::Emitter& out, std::string_view key, const std::string& value) {
  out << YAML::Key << std::string(key) << YAML::Value;
  if (core::redact_value(key, value) != value) {
    out << std::string(core::kRedacted);
  } else {
    out << YAML::DoubleQuoted << escape_interpolation(value);
  }
}

// A value that is a name (a record or event field), never a secret, whatever it is called.
void emit_name(YAML::Emitter& out, std::string_view key, const std::string& value) {
  out << YAML::Key << std::string(key) << YAML::Value << YAML::DoubleQuoted
      << escape_interpolation(value);
}

void emit_duration(YAML::Emitter& out, std::string_view key, milliseconds value) {
  out << YAML::Key << std::string(key) << YAML::Value << format_duration(value);
}

template <typename E>
std::string name_of(E value, std::initializer_list<std::pair<std::string_view, E>> names) {
  for (const auto& [name, v] : names) {
    if (v == value) {
      return std::string(name);
    }
  }
  return "?";
}

std::string flow_name(AuthFlow flow) {
  return name_of(flow, {{"jwt_bearer", AuthFlow::kJwtBearer},
                        {"client_credentials", AuthFlow::kClientCredentials},
                        {"refresh_token", AuthFlow::kRefreshToken},
                        {"password", AuthFlow::kPassword},
                        {"access_token", AuthFlow::kAccessToken}});
}

}  // namespace

std::string Problem::to_string() const {
  std::string out = path.empty() ? message : path + ": " + message;
  if (line > 0) {
    out += " (line " + std::to_string(line) + ", column " + std::to_string(column) + ")";
  }
  return out;
}

LoadResult LoadResult::success(Config config) {
  LoadResult result;
  result.config_ = std::move(config);
  return result;
}

LoadResult LoadResult::failure(std::vector<Problem> problems) {
  LoadResult result;
  result.problems_ = std::move(problems);
  return result;
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

bool is_log_level(std::string_view name) {
  return std::find(kLogLevels.begin(), kLogLevels.end(), name) != kLogLevels.end();
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

LoadResult load_string(std::string_view yaml, const std::string& source_name, const EnvLookup& env,
                       const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    Problem problem{"", "not valid YAML: " + e.msg, 0, 0};
    if (!e.mark.is_null()) {
      problem.line = e.mark.line + 1;
      problem.column = e.mark.column + 1;
    }
    return LoadResult::failure({std::move(problem)});
  }
  if (!root.IsDefined() || root.IsNull()) {
    return LoadResult::failure({Problem{"", source_name + " is empty", 0, 0}});
  }
  Loader loader(env, base_dir);
  Config config = loader.read(root);
  auto problems = loader.take_problems();
  if (!problems.empty()) {
    return LoadResult::failure(std::move(problems));
  }
  config.source = source_name;
  return LoadResult::success(std::move(config));
}

LoadResult load_file(const std::string& path, const EnvLookup& env) {
  std::string content;
  if (auto failure = read_bounded(path, content)) {
    return LoadResult::failure({Problem{"", "cannot read " + path + ": " + *failure, 0, 0}});
  }
  return load_string(content, path, env, std::filesystem::path(path).parent_path().string());
}

std::string to_yaml(const Config& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;

  const auto& sf = config.salesforce;
  out << YAML::Key << "salesforce" << YAML::Value << YAML::BeginMap;
  emit_string(out, "login_url", sf.login_url);
  emit_string(out, "api_version", sf.api_version);
  out << YAML::Key << "auth" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "flow" << YAML::Value << flow_name(sf.auth.flow);
  emit_string(out, "client_id", sf.auth.client_id);
  emit_string(out, "client_secret", sf.auth.client_secret);
  emit_string(out, "username", sf.auth.username);
  emit_string(out, "password", sf.auth.password);
  emit_string(out, "refresh_token", sf.auth.refresh_token);
  emit_string(out, "private_key_file", sf.auth.private_key_file);
  emit_string(out, "private_key", sf.auth.private_key);
  emit_string(out, "audience", sf.auth.audience);
  emit_string(out, "access_token", sf.auth.access_token);
  emit_string(out, "instance_url", sf.auth.instance_url);
  out << YAML::EndMap;
  emit_string(out, "ca_file", sf.ca_file);
  emit_duration(out, "connect_timeout", sf.connect_timeout);
  emit_duration(out, "request_timeout", sf.request_timeout);
  out << YAML::Key << "retry" << YAML::Value << YAML::BeginMap;
  emit_duration(out, "initial_backoff", sf.retry.initial_backoff);
  emit_duration(out, "max_backoff", sf.retry.max_backoff);
  emit_duration(out, "daily_limit_backoff", sf.retry.daily_limit_backoff);
  out << YAML::EndMap << YAML::EndMap;

  const auto& kafka = config.kafka;
  out << YAML::Key << "kafka" << YAML::Value << YAML::BeginMap;
  emit_string(out, "bootstrap_servers", kafka.bootstrap_servers);
  emit_string(out, "topic_prefix", kafka.topic_prefix);
  out << YAML::Key << "properties" << YAML::Value << YAML::BeginMap;
  for (const auto& [key, value] : kafka.properties) {
    emit_string(out, key, value);
  }
  out << YAML::EndMap;
  out << YAML::Key << "embedded" << YAML::Value << kafka.embedded;
  emit_duration(out, "flush_timeout", kafka.flush_timeout);
  out << YAML::EndMap;

  out << YAML::Key << "checkpoint" << YAML::Value << YAML::BeginMap;
  emit_string(out, "directory", config.checkpoint.directory);
  emit_duration(out, "interval", config.checkpoint.interval);
  out << YAML::EndMap;

  out << YAML::Key << "limits" << YAML::Value << YAML::BeginMap << YAML::Key
      << "max_in_flight_events" << YAML::Value << config.limits.max_in_flight_events
      << YAML::EndMap;

  out << YAML::Key << "subscribe" << YAML::Value << YAML::BeginSeq;
  for (const auto& s : config.subscribe) {
    out << YAML::BeginMap;
    emit_string(out, "channel", s.channel);
    emit_string(out, "topic", s.topic);
    out << YAML::Key << "start" << YAML::Value;
    if (s.start == core::kCometdLatest) {
      out << "latest";
    } else if (s.start == core::kCometdEarliest) {
      out << "earliest";
    } else {
      out << s.start;
    }
    out << YAML::Key << "key" << YAML::Value
        << (s.key == KeyKind::kPayloadField ? "payload." + s.key_field
                                            : name_of(s.key, {{"none", KeyKind::kNone},
                                                              {"event_uuid", KeyKind::kEventUuid},
                                                              {"replay_id", KeyKind::kReplayId}}));
    out << YAML::Key << "value" << YAML::Value
        << name_of(s.value, {{"payload", ValueKind::kPayload}, {"envelope", ValueKind::kEnvelope}});
    out << YAML::Key << "headers" << YAML::Value << s.headers;
    out << YAML::Key << "on_invalid_replay_id" << YAML::Value
        << name_of(s.on_invalid_replay_id, {{"earliest", InvalidReplayPolicy::kEarliest},
                                            {"latest", InvalidReplayPolicy::kLatest},
                                            {"fail", InvalidReplayPolicy::kFail}});
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "publish" << YAML::Value << YAML::BeginSeq;
  for (const auto& p : config.publish) {
    out << YAML::BeginMap;
    out << YAML::Key << "topics" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& topic : p.topics) {
      out << YAML::DoubleQuoted << escape_interpolation(topic);
    }
    out << YAML::EndSeq;
    emit_string(out, "event", p.event);
    out << YAML::Key << "rename" << YAML::Value << YAML::BeginMap;
    for (const auto& [from, to] : p.rename) {
      emit_name(out, from, to);
    }
    out << YAML::EndMap;
    out << YAML::Key << "static_fields" << YAML::Value << YAML::BeginMap;
    for (const auto& [field, json] : p.static_fields) {
      out << YAML::Key << field << YAML::Value;
      if (!json.empty() && json.front() == '"') {
        // A constant sent with every event may be a credential: the same rule as settings.
        const std::string text = json_unescape(json);
        if (core::redact_value(field, text) != text) {
          out << std::string(core::kRedacted);
        } else {
          out << YAML::DoubleQuoted << escape_interpolation(text);
        }
      } else {
        out << json;
      }
    }
    out << YAML::EndMap;
    emit_string(out, "key_field", p.key_field);
    emit_string(out, "dead_letter_topic", p.dead_letter_topic);
    out << YAML::Key << "batch_size" << YAML::Value << p.batch_size;
    out << YAML::Key << "linger_ms" << YAML::Value << p.linger.count();
    out << YAML::Key << "on_error" << YAML::Value
        << name_of(p.on_error, {{"dead_letter", OnError::kDeadLetter}, {"fail", OnError::kFail}});
    emit_string(out, "group_id", p.group_id);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "http" << YAML::Value << YAML::BeginMap;
  emit_string(out, "listen", config.http.listen);
  out << YAML::EndMap;

  out << YAML::Key << "logging" << YAML::Value << YAML::BeginMap;
  emit_string(out, "level", config.logging.level);
  out << YAML::Key << "format" << YAML::Value
      << (config.logging.format == LogFormat::kJson ? "json" : "text");
  out << YAML::EndMap;

  out << YAML::Key << "shutdown" << YAML::Value << YAML::BeginMap;
  emit_duration(out, "timeout", config.shutdown.timeout);
  out << YAML::EndMap;

  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

void register_secrets(const Config& config) {
  const auto& auth = config.salesforce.auth;
  for (const auto* value : {&auth.client_secret, &auth.password, &auth.refresh_token,
                            &auth.private_key, &auth.access_token}) {
    core::register_secret(*value);
  }
  for (const auto& [key, value] : config.kafka.properties) {
    if (core::redact_value(key, value) != value) {
      core::register_secret(value);
    }
  }
}

}  // namespace sfkb::config
