#pragma once
// The part of a test config for the real `sf-kafka-bridge` binary that every integration test and
// benchmark writes the same way: where Salesforce (the emulator) is and how to authenticate, short
// retry backoffs, and the test broker. Each harness appends its own sections after it.

#include <map>
#include <ostream>
#include <string>

namespace sfkb::it {

struct BridgeConnection {
  std::string salesforce_url;  // the emulator's base URL
  std::string access_token;    // access_token flow; empty: client_credentials with the two below
  std::string client_id;
  std::string client_secret;
  std::string bootstrap;
  std::map<std::string, std::string> kafka_properties;  // kafka.properties, written as given
  std::string
      pubsub_endpoint;  // salesforce.pubsub_endpoint (the emulator's gRPC port); empty: none
};

// `text` as a double-quoted YAML scalar (backslash and double quote escaped).
std::string yaml_quoted(const std::string& text);

// Writes the top-level `salesforce:` (login URL, API version, auth, retry) and `kafka:`
// (bootstrap servers, properties when there are any) sections.
void write_salesforce_and_kafka_yaml(std::ostream& out, const BridgeConnection& connection);

}  // namespace sfkb::it
