#pragma once
// What every publish integration test needs: an emulated org that knows the test's event type,
// topics on the test broker, a config for the real `sf-kafka-bridge` binary with one publish
// mapping (started as it::Bridge, see tests/integration/support/bridge_process.h), and the
// emulator's published log read back per source partition (each record carries its source in
// Src__c and Seq__c).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "emulator/emulator_process.h"
#include "tests/integration/support/bridge_process.h"
#include "tests/integration/support/bridge_yaml.h"
#include "tests/integration/support/kafka_cluster.h"
#include "tests/integration/support/temp_dir.h"

namespace sfkb::it::publish {

#define SFKB_REQUIRE_PUBLISH_PEERS() \
  do {                               \
    SFKB_REQUIRE_KAFKA();            \
    SFKB_REQUIRE_BRIDGE();           \
  } while (0)

inline constexpr const char* kEvent = "Order__e";

// Order__e { Src__c: string, Seq__c: number, Text__c: string }.
emulator::testing::EmulatorProcess::Options emulator_options(std::vector<std::string> extra = {});

// The connection (emulator URL, credentials, broker, kafka.properties) and the publish part.
struct PublishConfig : BridgeConnection {
  std::vector<std::string> topics;
  std::string dead_letter_topic;
  std::string group_id;
  int batch_size = 200;
  int linger_ms = 20;
  std::string on_error = "dead_letter";
  std::string shutdown_timeout = "10s";
  std::string mapping_yaml;  // more lines of the publish mapping, each indented by four spaces
  std::string http_listen;   // http.listen; empty: off
  std::string top_yaml;      // more top-level sections (e.g. "limits:\n  budget: 50%\n")
  std::string api;           // publish[].api: "rest" or "pubsub"; empty: not written (rest)
};

// The publish APIs the API-independent tests run over (README.md "Publish over the Pub/Sub API").
enum class Api { kRest, kPubsub };
std::string to_string(Api api);

// The emulator's Pub/Sub API endpoint for salesforce.pubsub_endpoint (http:// to its loopback
// gRPC port).
std::string pubsub_endpoint(const emulator::testing::EmulatorProcess& sf);

// The request path a `fail_next` fault of the emulator takes for a publish over `api`.
std::string publish_fault_path(Api api);

std::string render_yaml(const PublishConfig& config);

// For it::Bridge: the config, ready once the publish consumer got at least one partition; SIGTERM
// waits 15 s for the exit.
BridgeLaunch bridge_launch(const PublishConfig& config);

// A record value the tests produce: {"Src__c":"<src>","Seq__c":<seq>,"Text__c":"..."}.
std::string order_json(const std::string& src, std::int64_t seq, const std::string& extra = "");

// Produces `per_partition` records into each partition of `topic` (Src__c = "<topic>/<p>",
// Seq__c = 0..per_partition-1), keys "k<seq>".
void produce_orders(KafkaTestCluster& kafka, const std::string& topic, int partitions,
                    int per_partition, int first_seq = 0);

// The published log grouped by Src__c, each the Seq__c values in publish order.
std::map<std::string, std::vector<std::int64_t>> published_by_source(
    emulator::testing::EmulatorProcess& sf);

// "" when `seqs` is exactly 0..count-1 in order; otherwise what is wrong.
std::string check_exactly_once_in_order(const std::vector<std::int64_t>& seqs, std::int64_t count);

// "" when every value of 0..count-1 occurs, in order of first occurrence, and there are at most
// `max_duplicates` duplicates; otherwise what is wrong.
std::string check_at_least_once(const std::vector<std::int64_t>& seqs, std::int64_t count,
                                std::size_t max_duplicates);

// Produces `records` (in order, to their partitions) with a producer that allows values up to
// 2,000,000 bytes - the shared test producer keeps librdkafka's 1,000,000 limit. Throws on failure.
void produce_large(const std::string& bootstrap, const std::string& topic,
                   const std::vector<TestRecord>& records);

}  // namespace sfkb::it::publish
