#include "tests/integration/support/bridge_yaml.h"

namespace sfkb::it {

std::string yaml_quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

void write_salesforce_and_kafka_yaml(std::ostream& out, const BridgeConnection& connection) {
  out << "salesforce:\n"
      << "  login_url: " << yaml_quoted(connection.salesforce_url) << "\n"
      << "  api_version: \"62.0\"\n";
  if (!connection.pubsub_endpoint.empty()) {
    out << "  pubsub_endpoint: " << yaml_quoted(connection.pubsub_endpoint) << "\n";
  }
  out << "  auth:\n";
  if (!connection.access_token.empty()) {
    out << "    flow: access_token\n"
        << "    access_token: " << yaml_quoted(connection.access_token) << "\n"
        << "    instance_url: " << yaml_quoted(connection.salesforce_url) << "\n";
  } else {
    out << "    flow: client_credentials\n"
        << "    client_id: " << yaml_quoted(connection.client_id) << "\n"
        << "    client_secret: " << yaml_quoted(connection.client_secret) << "\n";
  }
  // Short backoffs so a test that breaks Salesforce or Kafka sees the bridge recover quickly.
  out << "  retry:\n"
      << "    initial_backoff: 50ms\n"
      << "    max_backoff: 500ms\n"
      << "kafka:\n"
      << "  bootstrap_servers: " << yaml_quoted(connection.bootstrap) << "\n";
  if (!connection.kafka_properties.empty()) {
    out << "  properties:\n";
    for (const auto& [key, value] : connection.kafka_properties) {
      out << "    " << yaml_quoted(key) << ": " << yaml_quoted(value) << "\n";
    }
  }
}

}  // namespace sfkb::it
