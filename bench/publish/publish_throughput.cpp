// bench_publish: Kafka -> Salesforce throughput of the real sf-kafka-bridge binary against the
// emulator and the test broker. For each scenario a backlog of records is produced
// first, then the bridge is started; the rate is measured from the first to the last published
// event (so process start and the group join are not counted), HTTP requests per record come
// from the emulator's request counters, peak RSS is the bridge's VmHWM at the end.
//
//   SFKB_KAFKA_BOOTSTRAP=127.0.0.1:PORT build/bench/publish/bench_publish [--api rest|pubsub]
//   [records_at_0ms] [records_at_50ms]
//
// With `--api pubsub` the mapping publishes through the Pub/Sub API (publish[].api: pubsub, the
// emulator's gRPC port, client_credentials for the org ID); the emulator counts no gRPC
// requests, so requests per record are given only for REST.

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>

#include <unistd.h>

#include <rapidjson/document.h>

#include "tests/integration/publish/publish_harness.h"
#include "tests/integration/support/unique_name.h"
#include "tests/support/wait.h"

namespace {

using namespace std::chrono_literals;
using namespace sfkb;
using Clock = std::chrono::steady_clock;

std::uint64_t composite_requests(emulator::testing::EmulatorProcess& sf) {
  rapidjson::Document doc;
  const auto stats = sf.stats();
  doc.Parse(stats.c_str());
  std::uint64_t n = 0;
  if (doc.IsObject() && doc.HasMember("requests")) {
    // Keys are "<METHOD> <endpoint>", e.g. "POST /services/data/composite/sobjects".
    for (auto e = doc["requests"].MemberBegin(); e != doc["requests"].MemberEnd(); ++e) {
      if (std::string_view(e->name.GetString()).find("composite/sobjects") ==
          std::string_view::npos) {
        continue;
      }
      for (auto s = e->value.MemberBegin(); s != e->value.MemberEnd(); ++s) {
        n += s->value.GetUint64();
      }
    }
  }
  return n;
}

struct Figures {
  double records_per_s = 0;
  double requests_per_record = 0;
  double records_per_request = 0;
  std::int64_t peak_rss_kb = 0;
  double bridge_cpu_s = 0;
  double seconds = 0;
  bool complete = false;
};

Figures run(it::KafkaTestCluster& kafka, it::publish::Api api, int latency_ms, int records) {
  emulator::testing::EmulatorProcess sf(
      it::publish::emulator_options({"--client-id", "bench", "--client-secret", "bench-secret"}));
  sf.faults("{\"latency_ms\":" + std::to_string(latency_ms) + "}");
  constexpr int kPartitions = 4;
  const auto topic = it::unique_name("bench-orders");
  kafka.create_topic(topic, kPartitions);
  const int per_partition = records / kPartitions;
  for (int done = 0; done < per_partition; done += 5000) {
    it::publish::produce_orders(kafka, topic, kPartitions, std::min(5000, per_partition - done),
                                done);
  }
  const auto total = static_cast<std::size_t>(per_partition * kPartitions);

  it::TempDir dir("sfkb-bench-publish");
  it::publish::PublishConfig config;
  config.salesforce_url = sf.base_url();
  config.access_token = sf.static_token();
  config.bootstrap = kafka.bootstrap();
  config.topics = {topic};
  config.dead_letter_topic = topic + ".dlq";
  config.group_id = it::unique_name("bench-group");
  config.batch_size = 200;
  config.linger_ms = 50;
  if (api == it::publish::Api::kPubsub) {
    config.api = "pubsub";
    config.pubsub_endpoint = it::publish::pubsub_endpoint(sf);
    config.access_token.clear();
    config.client_id = "bench";
    config.client_secret = "bench-secret";
  }
  it::Bridge bridge(config, dir);

  Figures figures;
  Clock::time_point first{};
  std::size_t at_first = 0;
  const auto deadline = Clock::now() + 600s;
  std::size_t count = 0;
  while (Clock::now() < deadline) {
    count = sf.published(it::publish::kEvent, total).count;  // since=total: no event bodies
    if (count > 0 && first == Clock::time_point{}) {
      first = Clock::now();
      at_first = count;
    }
    if (count >= total) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  const auto last = Clock::now();
  figures.complete = count >= total;
  figures.seconds = std::chrono::duration<double>(last - first).count();
  figures.records_per_s = static_cast<double>(count - at_first) / figures.seconds;
  const auto requests = composite_requests(sf);
  figures.requests_per_record = static_cast<double>(requests) / static_cast<double>(count);
  figures.records_per_request = static_cast<double>(count) / static_cast<double>(requests);
  figures.peak_rss_kb = it::proc_status_kb(bridge.process().pid(), "VmHWM");
  figures.bridge_cpu_s = it::cpu_seconds(bridge.process().pid());
  bridge.terminate();
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  if (!it::KafkaTestCluster::available() || it::bridge_binary().empty()) {
    std::fprintf(stderr,
                 "needs SFKB_KAFKA_BOOTSTRAP (scripts/test starts a broker) and the "
                 "sf-kafka-bridge binary\n");
    return 2;
  }
  int arg = 1;
  auto api = it::publish::Api::kRest;
  if (argc > arg + 1 && std::string(argv[arg]) == "--api") {
    const std::string name = argv[arg + 1];
    if (name != "rest" && name != "pubsub") {
      std::fprintf(stderr, "--api is rest or pubsub, not %s\n", name.c_str());
      return 2;
    }
    api = name == "pubsub" ? it::publish::Api::kPubsub : it::publish::Api::kRest;
    arg += 2;
  }
  const int at_0 = argc > arg ? std::stoi(argv[arg]) : 100000;
  const int at_50 = argc > arg + 1 ? std::stoi(argv[arg + 1]) : 20000;
  it::KafkaTestCluster kafka;
  std::printf(
      "| api | emulator latency | records | seconds | records/s | HTTP requests/record | "
      "records/request | peak RSS (MiB) | bridge CPU s (whole run) |\n"
      "|---|---|---|---|---|---|---|---|---|\n");
  for (auto [latency, records] : {std::pair{0, at_0}, std::pair{50, at_50}}) {
    auto f = run(kafka, api, latency, records);
    const bool rest = api == it::publish::Api::kRest;
    std::printf("| %s | %d ms | %d%s | %.1f | %.0f | %s | %s | %.1f | %.2f |\n",
                it::publish::to_string(api).c_str(), latency, records,
                f.complete ? "" : " (INCOMPLETE)", f.seconds, f.records_per_s,
                rest ? std::to_string(f.requests_per_record).substr(0, 6).c_str() : "n/a",
                rest ? std::to_string(f.records_per_request).substr(0, 5).c_str() : "n/a",
                static_cast<double>(f.peak_rss_kb) / 1024.0, f.bridge_cpu_s);
    std::fflush(stdout);
  }
  return 0;
}
