#include "daemon/config/names.h"

#include <charconv>
#include <regex>

namespace sfkb::config {
namespace {

// Kafka's own limit on topic names (kafka.common.internals.Topic).
constexpr std::size_t kMaxTopicLength = 249;
constexpr int kMinApiVersion = 37;  // CometD refuses anything older

}  // namespace

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

std::string topic_prefix_problem(std::string_view prefix) {
  static const std::regex legal("[A-Za-z0-9._-]*");
  if (!std::regex_match(prefix.begin(), prefix.end(), legal)) {
    return "\"" + std::string(prefix) +
           "\" may hold only letters, digits, '.', '_' and '-' (it prefixes topic names)";
  }
  return {};
}

std::string channel_problem(std::string_view channel) {
  static const std::regex valid(R"(/(event|data|topic)/[A-Za-z][A-Za-z0-9_]*)");
  if (!channel.empty() && !std::regex_match(channel.begin(), channel.end(), valid)) {
    return "\"" + std::string(channel) +
           "\" is not a channel; expected /event/<Name>__e, /data/<Name> or /topic/<Name>";
  }
  return {};
}

std::string event_name_problem(std::string_view event) {
  static const std::regex valid(R"([A-Za-z][A-Za-z0-9_]*__e)");
  if (!event.empty() && !std::regex_match(event.begin(), event.end(), valid)) {
    return "\"" + std::string(event) + "\" is not a platform event API name such as Order_Event__e";
  }
  return {};
}

std::string api_version_problem(std::string_view version) {
  static const std::regex valid(R"(([0-9]+)\.0)");
  const std::string text(version);
  std::smatch match;
  if (!std::regex_match(text, match, valid)) {
    return "\"" + text + "\" is not an API version such as \"62.0\"";
  }
  // A major version past int's range is no version at all (and std::stoi would throw on it).
  int major = 0;
  const std::string digits = match[1].str();
  if (std::from_chars(digits.data(), digits.data() + digits.size(), major).ec != std::errc()) {
    return "\"" + text + "\" is not an API version such as \"62.0\"";
  }
  if (major < kMinApiVersion) {
    return "must be " + std::to_string(kMinApiVersion) +
           ".0 or later (the oldest version CometD accepts)";
  }
  return {};
}

}  // namespace sfkb::config
