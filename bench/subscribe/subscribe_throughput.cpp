// bench_subscribe: events/s and latency (emulator injection -> Kafka append) of the real bridge
// subscribing to 1 or 5 channels, and its peak RSS. Needs the test broker (SFKB_KAFKA_BOOTSTRAP).
//
//   bench_subscribe [--events N] [--channels C] [--chunk K] [--rate R] [--api cometd|pubsub]
//
// --api pubsub subscribes over the emulator's Pub/Sub API (gRPC) instead of CometD, the same
// events into the same topic: the two APIs side by side (bench/RESULTS.md).
//
// Without --rate the events are injected as fast as the emulator takes them (a burst: the figure
// is the bridge's throughput, and latency includes the wait in the backlog). With --rate R they
// are injected at R events/s in 20 slices a second (latency of a stream below capacity).
//
// The topic is created with message.timestamp.type=LogAppendTime, so each record's timestamp is
// the moment the broker appended it (with acks=all on one broker: when the bridge gets its ack,
// give or take the ack's way back). Latency = that - the event's CreatedDate (set by the emulator
// at injection; both clocks are this machine's, in ms). Throughput = events / (last append - first
// inject).

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "tests/integration/subscribe/bridge_harness.h"
#include "tests/integration/support/unique_name.h"

using namespace std::chrono_literals;
using namespace sfkb::it;
using namespace sfkb::it::subscribe;

namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// 2026-11-26T17:30:00.123Z -> ms since the epoch (UTC).
std::int64_t parse_created(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) < 6) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + millis;
}

void create_log_append_topic(const std::string& bootstrap, const std::string& topic,
                             int partitions) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    throw std::runtime_error(err);
  }
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof(err));
  rd_kafka_NewTopic_set_config(nt, "message.timestamp.type", "LogAppendTime");
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 30000);
  std::string failure;
  if (event == nullptr) {
    failure = "CreateTopics timed out";
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n);
    if (n == 1 && rd_kafka_topic_result_error(results[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      failure = rd_kafka_topic_result_error_string(results[0]);
    }
    rd_kafka_event_destroy(event);
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_destroy(rk);
  if (!failure.empty()) {
    throw std::runtime_error("create topic " + topic + ": " + failure);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t events = 200000;
  int channels = 1;
  std::size_t chunk = 5000;
  std::size_t rate = 0;
  std::string api = "cometd";
  bool coordination = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--events") {
      events = std::stoul(argv[i + 1]);
    } else if (flag == "--channels") {
      channels = std::stoi(argv[i + 1]);
    } else if (flag == "--chunk") {
      chunk = std::stoul(argv[i + 1]);
    } else if (flag == "--rate") {
      rate = std::stoul(argv[i + 1]);
    } else if (flag == "--api") {
      api = argv[i + 1];
    } else if (flag == "--coordination") {
      // off: one instance outside the consumer group (it still writes a transaction per
      // channel) - what following the group's assignments costs, measured with the same binary.
      coordination = std::string(argv[i + 1]) != "off";
    }
  }
  if (!KafkaTestCluster::available() || bridge_binary().empty()) {
    std::cerr << "bench_subscribe: needs SFKB_KAFKA_BOOTSTRAP and the sf-kafka-bridge binary\n";
    return 2;
  }
  KafkaTestCluster kafka;
  sfkb::emulator::testing::EmulatorProcess sf(emulator_options());
  TempDir dir("sfkb-bench-subscribe");
  const std::string topic = unique_name("bench-sub");
  create_log_append_topic(kafka.bootstrap(), topic, std::max(1, channels));

  const char* names[] = {"/event/A__e", "/event/B__e", "/event/C__e", "/event/D__e", "/event/E__e"};
  BridgeConfig config;
  config.salesforce_url = sf.base_url();
  if (api == "pubsub") {
    // Every Pub/Sub call names the org: a token response with an identity URL.
    config.client_id = "cid";
    config.client_secret = "csecret";
    config.pubsub_endpoint = pubsub_endpoint(sf);
  } else {
    config.access_token = sf.static_token();
  }
  config.bootstrap = kafka.bootstrap();
  config.checkpoint_dir = dir.file("state");
  config.checkpoint_interval = "1s";
  config.coordination = coordination;
  for (int c = 0; c < channels; ++c) {
    config.channels.push_back({names[c], topic});
    config.channels.back().api = api;
  }
  Bridge bridge(config, dir);
  if (!bridge.wait_ready(60s)) {
    std::cerr << "bench_subscribe: the bridge did not start\n" << bridge.output();
    return 1;
  }
  // A first event through proves the whole path before the clock starts.
  sf.inject(names[0], 1, R"({"Text__c":"warm-up"})");
  if (kafka.consume(topic, 1, 60s).empty()) {
    std::cerr << "bench_subscribe: the warm-up event never reached Kafka\n" << bridge.output();
    return 1;
  }
  const double cpu_before = cpu_seconds(bridge.process().pid());

  const std::int64_t t0 = wall_ms();
  std::thread injector([&] {
    std::size_t done = 0;
    int c = 0;
    const std::size_t slice = rate > 0 ? std::max<std::size_t>(1, rate / 20) : chunk;
    auto next = std::chrono::steady_clock::now();
    while (done < events) {
      if (rate > 0) {
        std::this_thread::sleep_until(next);  // pacing the load, not synchronising
        next += 50ms;
      }
      std::size_t n = std::min(slice, events - done);
      sf.inject(names[c], n, R"({"Text__c":"bench-{n}","Number__c":42})");
      done += n;
      c = (c + 1) % channels;
    }
  });
  injector.join();
  const std::int64_t injected_at = wall_ms();
  auto records = kafka.consume(topic, events + 1, 300s);
  const double cpu_after = cpu_seconds(bridge.process().pid());
  const auto hwm_kb = proc_status_kb(bridge.process().pid(), "VmHWM");
  auto code = bridge.terminate(30s);

  std::vector<std::int64_t> latencies;
  std::int64_t last_append = 0;
  for (const auto& record : records) {
    auto created = record.header("sf.created_date");
    if (!created || record.value_or_empty().find("warm-up") != std::string::npos) {
      continue;
    }
    latencies.push_back(record.timestamp_ms - parse_created(*created));
    last_append = std::max(last_append, record.timestamp_ms);
  }
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? -1
                             : latencies[std::min(latencies.size() - 1,
                                                  static_cast<std::size_t>(p * latencies.size()))];
  };
  const double seconds = static_cast<double>(last_append - t0) / 1000.0;
  std::ifstream loadavg("/proc/loadavg");
  std::string load;
  std::getline(loadavg, load);
  std::printf(
      "api=%s coordination=%s rate=%zu channels=%d events=%zu received=%zu seconds=%.2f "
      "events_per_s=%.0f "
      "inject_s=%.2f "
      "latency_ms p50=%lld p99=%lld max=%lld bridge_cpu_s=%.2f events_per_cpu_s=%.0f "
      "peak_rss_kb=%lld exit=%d loadavg=%s\n",
      api.c_str(), coordination ? "on" : "off", rate, channels, events, latencies.size(), seconds,
      seconds > 0 ? static_cast<double>(latencies.size()) / seconds : 0.0,
      static_cast<double>(injected_at - t0) / 1000.0, static_cast<long long>(pct(0.50)),
      static_cast<long long>(pct(0.99)), static_cast<long long>(pct(1.0)), cpu_after - cpu_before,
      cpu_after > cpu_before ? static_cast<double>(latencies.size()) / (cpu_after - cpu_before)
                             : 0.0,
      static_cast<long long>(hwm_kb), code.value_or(-1), load.c_str());
  return latencies.size() == events ? 0 : 1;
}
