#include "tests/integration/publish/publish_harness.h"

#include <unistd.h>

#include <set>
#include <sstream>

#include <librdkafka/rdkafka.h>
#include <rapidjson/document.h>

#include <stdexcept>

namespace sfkb::it::publish {

emulator::testing::EmulatorProcess::Options emulator_options(std::vector<std::string> extra) {
  emulator::testing::EmulatorProcess::Options options;
  options.events_yaml =
      "events:\n  Order__e:\n    Src__c: string\n    Seq__c: number\n    Text__c: string\n";
  options.extra_args = std::move(extra);
  return options;
}

std::string render_yaml(const PublishConfig& config) {
  std::ostringstream y;
  write_salesforce_and_kafka_yaml(y, config);
  y << "publish:\n"
    << "  - topics: [";
  for (std::size_t i = 0; i < config.topics.size(); ++i) {
    y << (i ? ", " : "") << yaml_quoted(config.topics[i]);
  }
  y << "]\n"
    << "    event: " << kEvent << "\n"
    << "    group_id: " << yaml_quoted(config.group_id) << "\n"
    << "    batch_size: " << config.batch_size << "\n"
    << "    linger_ms: " << config.linger_ms << "\n"
    << "    on_error: " << config.on_error << "\n";
  if (!config.dead_letter_topic.empty()) {
    y << "    dead_letter_topic: " << yaml_quoted(config.dead_letter_topic) << "\n";
  }
  if (!config.api.empty()) {
    y << "    api: " << config.api << "\n";
  }
  y << config.mapping_yaml << config.top_yaml;
  y << "http:\n  listen: " << yaml_quoted(config.http_listen) << "\n"
    << "logging:\n  level: info\n"
    << "shutdown:\n  timeout: " << config.shutdown_timeout << "\n";
  return y.str();
}

BridgeLaunch bridge_launch(const PublishConfig& config) {
  BridgeLaunch launch;
  launch.yaml = render_yaml(config);
  launch.ready_line = "partition assigned";
  launch.ready_count = 1;
  launch.stop_timeout = std::chrono::seconds(15);
  return launch;
}

std::string to_string(Api api) {
  return api == Api::kPubsub ? "pubsub" : "rest";
}

std::string pubsub_endpoint(const emulator::testing::EmulatorProcess& sf) {
  if (sf.pubsub_address().empty()) {
    throw std::runtime_error("the emulator runs without its Pub/Sub API (--pubsub-listen off)");
  }
  return "http://" + sf.pubsub_address();
}

std::string publish_fault_path(Api api) {
  return api == Api::kPubsub ? "/eventbus.v1.PubSub/Publish" : "/services/data";
}

std::string order_json(const std::string& src, std::int64_t seq, const std::string& extra) {
  return R"({"Src__c":")" + src + R"(","Seq__c":)" + std::to_string(seq) + R"(,"Text__c":"order )" +
         std::to_string(seq) + "\"" + extra + "}";
}

void produce_orders(KafkaTestCluster& kafka, const std::string& topic, int partitions,
                    int per_partition, int first_seq) {
  std::vector<TestRecord> records;
  records.reserve(static_cast<std::size_t>(partitions * per_partition));
  for (int seq = first_seq; seq < first_seq + per_partition; ++seq) {
    for (int p = 0; p < partitions; ++p) {
      records.push_back(
          {"k" + std::to_string(seq), order_json(topic + "/" + std::to_string(p), seq), {}, p});
    }
  }
  kafka.produce(topic, records);
}

std::map<std::string, std::vector<std::int64_t>> published_by_source(
    emulator::testing::EmulatorProcess& sf) {
  std::map<std::string, std::vector<std::int64_t>> out;
  for (const auto& event : sf.published(kEvent).events) {
    rapidjson::Document doc;
    doc.Parse(event.c_str());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("Src__c") ||
        !doc.HasMember("Seq__c")) {
      out["<unparsable>"].push_back(-1);
      continue;
    }
    // Over the Pub/Sub API a Number field is an Avro double, so the emulator logs 1.0 where REST
    // logged 1 as written.
    const auto& seq = doc["Seq__c"];
    out[doc["Src__c"].GetString()].push_back(
        seq.IsInt64() ? seq.GetInt64() : static_cast<std::int64_t>(seq.GetDouble()));
  }
  return out;
}

std::string check_exactly_once_in_order(const std::vector<std::int64_t>& seqs, std::int64_t count) {
  if (static_cast<std::int64_t>(seqs.size()) != count) {
    return "expected " + std::to_string(count) + " records, got " + std::to_string(seqs.size());
  }
  for (std::int64_t i = 0; i < count; ++i) {
    if (seqs[static_cast<std::size_t>(i)] != i) {
      return "record #" + std::to_string(i) + " is seq " +
             std::to_string(seqs[static_cast<std::size_t>(i)]);
    }
  }
  return "";
}

std::string check_at_least_once(const std::vector<std::int64_t>& seqs, std::int64_t count,
                                std::size_t max_duplicates) {
  std::set<std::int64_t> seen;
  std::int64_t next_new = 0;
  for (auto seq : seqs) {
    if (seen.insert(seq).second) {
      if (seq != next_new) {
        return "first publication of seq " + std::to_string(seq) + " came before seq " +
               std::to_string(next_new);
      }
      ++next_new;
    }
  }
  if (next_new != count) {
    return "only " + std::to_string(next_new) + " of " + std::to_string(count) + " published";
  }
  if (seqs.size() - seen.size() > max_duplicates) {
    return std::to_string(seqs.size() - seen.size()) + " duplicates, more than " +
           std::to_string(max_duplicates);
  }
  return "";
}

void produce_large(const std::string& bootstrap, const std::string& topic,
                   const std::vector<TestRecord>& records) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [key, value] :
       std::vector<std::pair<const char*, std::string>>{{"bootstrap.servers", bootstrap},
                                                        {"enable.idempotence", "true"},
                                                        {"message.max.bytes", "2000000"},
                                                        {"log_level", "3"}}) {
    if (rd_kafka_conf_set(conf, key, value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(errstr);
    }
  }
  std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> producer(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr), rd_kafka_destroy);
  if (!producer) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(errstr);
  }
  for (const auto& record : records) {
    const char* key = record.key ? record.key->data() : nullptr;
    const std::size_t key_size = record.key ? record.key->size() : 0;
    auto err = rd_kafka_producev(
        producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(record.partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
        RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
    }
  }
  if (rd_kafka_flush(producer.get(), 30000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_outq_len(producer.get()) != 0) {
    throw std::runtime_error("produce: not every record was acknowledged");
  }
}

}  // namespace sfkb::it::publish
