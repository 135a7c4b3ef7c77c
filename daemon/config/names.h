#pragma once
// The names a configuration holds: Kafka topics and their prefix, Salesforce channels, platform
// events and API versions. Each function returns what is wrong with its input, or an empty string.

#include <string>
#include <string_view>

namespace sfkb::config {

// A Kafka topic name, `prefix` included in its length.
std::string topic_name_problem(std::string_view topic, std::string_view prefix);

// kafka.topic_prefix: the characters of a topic name, possibly none.
std::string topic_prefix_problem(std::string_view prefix);

// A CometD channel: /event/<Name>__e, /data/<Name> or /topic/<Name>; empty passes (required
// separately).
std::string channel_problem(std::string_view channel);

// A platform event API name such as Order_Event__e; empty passes (required separately).
std::string event_name_problem(std::string_view event);

// salesforce.api_version: "NN.0", at least the oldest version CometD accepts.
std::string api_version_problem(std::string_view version);

}  // namespace sfkb::config
