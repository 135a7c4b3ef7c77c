#pragma once
// The generic half of reading YAML into the configuration: mappings with their valid keys,
// interpolated scalars, typed values with their bounds, and the problems found, each located by
// its YAML path, line and column. What to read where is declared in schema.h / fields.cpp; this
// file knows nothing about particular settings.

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/config/config.h"
#include "daemon/config/loader.h"

namespace sfkb::config {

using Keys = std::vector<std::string_view>;

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

  const Entry* find(std::string_view key) const;
  // Present with a non-null value.
  bool has(std::string_view key) const;
};

// An interpolated scalar with where it came from.
struct Scalar {
  std::string text;
  std::string path;
  YAML::Mark mark;
  bool plain = true;  // written without quotes (matters for static_fields' JSON types)
};

// A place in the file: a value, or the mapping that lacks it.
struct Located {
  std::string path;
  YAML::Mark mark;
};

// Where a topic or channel is named, for the rules across mappings (rules.h).
struct TopicUse {
  std::string topic;
  std::string path;
  YAML::Mark mark;
};

// What the rules across mappings need to remember while the entries are read.
struct Uses {
  std::vector<TopicUse> channels;      // subscribe[].channel
  std::vector<TopicUse> destinations;  // subscribe[].topic
  std::vector<TopicUse> sources;       // publish[].topics
  std::vector<TopicUse> dead_letters;  // publish[].dead_letter_topic
};

std::string join(const std::string& path, std::string_view key);
std::string indexed(const std::string& path, std::size_t index);
std::string list_of(const Keys& keys);
std::string kind_of(const YAML::Node& node);

class Reader {
 public:
  Reader(const EnvLookup& env, std::string base_dir, const Config& config)
      : env_(env), base_dir_(std::move(base_dir)), config_(config) {}

  // In file order; problems without a position (across entries) last.
  std::vector<Problem> take_problems();
  void error(std::string path, const YAML::Mark& mark, std::string message);
  bool failed(const std::string& path) const { return failed_paths_.count(path) != 0; }
  // Values read and taken (a rule may depend on them: the auth flow decides what is required).
  void accept(const std::string& path) { accepted_paths_.insert(path); }
  bool accepted(const std::string& path) const { return accepted_paths_.count(path) != 0; }
  std::size_t problem_count() const { return problems_.size(); }

  // Reads a mapping, reporting duplicate keys and keys not in `valid` (an empty `valid` accepts
  // any key, for free-form maps such as kafka.properties).
  std::optional<Map> map(const YAML::Node& node, const std::string& path, const Keys& valid);
  // A nested mapping; when it is the wrong type the problem is recorded and an empty Map (all
  // defaults) is returned so that the rest of the file is still checked.
  Map child_map(const Map& parent, std::string_view key, const Keys& valid);

  // The interpolated scalar at `key`; nullopt when absent, null, or wrong (problem recorded).
  std::optional<Scalar> scalar(const Map& m, std::string_view key);
  std::optional<Scalar> scalar_node(const YAML::Node& node, const std::string& path);

  // Typed values; nullopt when wrong (problem recorded).
  std::optional<long long> parse_integer(const Scalar& s, long long min, long long max);
  std::optional<bool> parse_bool(const Scalar& s);
  std::optional<std::chrono::milliseconds> parse_duration_within(const Scalar& s,
                                                                 DurationRange range);
  // One of `names` (in order); the problem lists them.
  std::optional<std::size_t> parse_choice(const Scalar& s,
                                          const std::vector<std::string_view>& names);

  // A list of strings; a scalar where a list belongs is a type error.
  std::vector<Scalar> string_list(const Map& m, std::string_view key);
  // A mapping of names to scalars (rename, static_fields, kafka.properties).
  std::vector<std::pair<Entry, Scalar>> scalar_map(const Map& m, std::string_view key);

  // Reports an empty required value: at the value when the key is there, else at its mapping.
  void require_non_empty(const Map& m, std::string_view key, const std::string& value,
                         const std::string& why = {});

  // Where `key`'s value is, or its mapping when absent.
  Located at(const Map& m, std::string_view key) const;

  // Relative paths in the file are relative to the file's directory (as in Prometheus), so a
  // config and its key can move together; empty: the working directory.
  std::string resolve(const std::string& path) const;

  const EnvLookup& env() const { return env_; }
  // The configuration read so far (e.g. kafka.topic_prefix for the topic names after it).
  const Config& config() const { return config_; }
  Uses& uses() { return uses_; }

  // The text of a value for a problem message; secrets are never echoed.
  static std::string shown(const Scalar& s);

 private:
  const EnvLookup& env_;
  const std::string base_dir_;
  const Config& config_;
  std::vector<Problem> problems_;
  std::set<std::string, std::less<>> failed_paths_;
  std::set<std::string, std::less<>> accepted_paths_;
  Uses uses_;
};

}  // namespace sfkb::config
