#pragma once
// kafka.properties entries, checked the way librdkafka itself will check them, so that its verdict
// reaches the user at load time instead of at the first connection.

#include <string>
#include <string_view>
#include <vector>

namespace sfkb::config {

// What is wrong with setting librdkafka property `key` to `value`, or an empty string: a property
// the bridge sets itself is refused with the reason, anything else is librdkafka's own verdict
// (one line, secrets hidden).
std::string rdkafka_property_problem(const std::string& key, const std::string& value);

// The properties the bridge sets itself and refuses in kafka.properties (README.md lists them).
std::vector<std::string_view> reserved_rdkafka_properties();

}  // namespace sfkb::config
