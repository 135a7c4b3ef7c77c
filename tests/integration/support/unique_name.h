#pragma once
// Names that no other test (or earlier run against the same broker) uses: topics, groups, dirs.

#include <string>

namespace sfkb::it {

// "<prefix>.<TestSuite>.<TestName>.<pid>.<n>.<random>", reduced to the characters Kafka accepts
// in a topic or group name ([A-Za-z0-9._-]) and to at most 200 characters.
std::string unique_name(const std::string& prefix);

}  // namespace sfkb::it
