#include "tests/integration/support/kafka_cluster.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <thread>

#include "tests/integration/support/process.h"
#include "tests/integration/support/unique_name.h"

namespace sfkb::it {
namespace {

using Clock = std::chrono::steady_clock;
using Handle = std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)>;

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
using Conf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using List = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;
using Message = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using Metadata = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

[[noreturn]] void fail(const std::string& what, rd_kafka_resp_err_t err) {
  throw std::runtime_error(what + ": " + rd_kafka_err2str(err));
}

void set(rd_kafka_conf_t* conf, const char* key, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key, value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    throw std::runtime_error(std::string("librdkafka property ") + key + ": " + errstr);
  }
}

int remaining_ms(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<long long>(0, left));
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// Per-produce() delivery bookkeeping, reached through the message opaque.
struct DeliveryState {
  std::size_t done = 0;
  std::string first_error;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* state = static_cast<DeliveryState*>(message->_private);
  if (state == nullptr) {
    return;
  }
  ++state->done;
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR && state->first_error.empty()) {
    state->first_error = rd_kafka_err2str(message->err);
  }
}

ConsumedRecord to_record(const rd_kafka_message_t* m) {
  ConsumedRecord r;
  r.topic = rd_kafka_topic_name(m->rkt);
  r.partition = m->partition;
  r.offset = m->offset;
  if (m->key != nullptr) {
    r.key.emplace(static_cast<const char*>(m->key), m->key_len);
  }
  if (m->payload != nullptr) {
    r.value.emplace(static_cast<const char*>(m->payload), m->len);
  }
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      r.headers.emplace_back(name, value == nullptr
                                       ? std::string()
                                       : std::string(static_cast<const char*>(value), size));
    }
  }
  rd_kafka_timestamp_type_t type;
  r.timestamp_ms = rd_kafka_message_timestamp(m, &type);
  return r;
}

void sort_records(std::vector<ConsumedRecord>& records) {
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
}

}  // namespace

std::optional<std::string> ConsumedRecord::header(const std::string& name) const {
  std::optional<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k == name) {
      out = v;
    }
  }
  return out;
}

bool KafkaTestCluster::available() {
  return !env_or_empty("SFKB_KAFKA_BOOTSTRAP").empty();
}

bool KafkaTestCluster::can_restart() {
  return available() && !env_or_empty("SFKB_KAFKA_DIR").empty() &&
         !env_or_empty("SFKB_KAFKA_SCRIPTS").empty();
}

KafkaTestCluster::KafkaTestCluster() : KafkaTestCluster(env_or_empty("SFKB_KAFKA_BOOTSTRAP")) {}

KafkaTestCluster::KafkaTestCluster(std::string bootstrap)
    : bootstrap_(std::move(bootstrap)), producer_(nullptr, rd_kafka_destroy) {
  if (bootstrap_.empty()) {
    throw std::runtime_error("KafkaTestCluster: SFKB_KAFKA_BOOTSTRAP is not set");
  }
}

KafkaTestCluster::~KafkaTestCluster() {
  if (producer_) {
    rd_kafka_flush(producer_.get(), 5000);
  }
}

rd_kafka_t* KafkaTestCluster::producer() {
  if (!producer_) {
    Conf conf(rd_kafka_conf_new());
    set(conf.get(), "bootstrap.servers", bootstrap_);
    set(conf.get(), "enable.idempotence", "true");
    set(conf.get(), "linger.ms", "5");
    set(conf.get(), "message.timeout.ms", "60000");
    set(conf.get(), "log_level", "3");
    rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
    char errstr[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr);
    if (rk == nullptr) {
      throw std::runtime_error(std::string("test producer: ") + errstr);
    }
    conf.release();  // owned by rk now
    producer_.reset(rk);
  }
  return producer_.get();
}

Handle KafkaTestCluster::new_consumer() {
  Conf conf(rd_kafka_conf_new());
  set(conf.get(), "bootstrap.servers", bootstrap_);
  set(conf.get(), "group.id", unique_name("sfkb-test-reader"));  // never joined: assign() only
  set(conf.get(), "enable.auto.commit", "false");
  set(conf.get(), "enable.partition.eof", "true");
  set(conf.get(), "allow.auto.create.topics", "false");
  set(conf.get(), "log_level", "3");
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr);
  if (rk == nullptr) {
    throw std::runtime_error(std::string("test consumer: ") + errstr);
  }
  conf.release();
  return Handle(rk, rd_kafka_destroy);
}

std::vector<std::int32_t> KafkaTestCluster::partitions_of(const std::string& topic,
                                                          std::chrono::milliseconds timeout) {
  // All-topics metadata: asking for one topic by name through a producer would make a broker with
  // auto.create.topics.enable create it.
  rd_kafka_t* rk = producer();
  const auto deadline = Clock::now() + timeout;
  std::string last_error = "timed out";
  do {
    const rd_kafka_metadata_t* raw = nullptr;
    const auto err = rd_kafka_metadata(rk, 1, nullptr, &raw,
                                       std::max(100, std::min(2000, remaining_ms(deadline))));
    Metadata all(raw);
    const rd_kafka_metadata_topic_t* found = nullptr;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int i = 0; i < all->topic_cnt; ++i) {
        if (topic == all->topics[i].topic) {
          found = &all->topics[i];
        }
      }
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last_error = rd_kafka_err2str(err);
    } else if (found == nullptr) {
      last_error = "no such topic";
    } else if (found->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last_error = rd_kafka_err2str(found->err);
    } else if (found->partition_cnt > 0) {
      std::vector<std::int32_t> out;
      bool all_led = true;
      for (int i = 0; i < found->partition_cnt; ++i) {
        out.push_back(found->partitions[i].id);
        all_led = all_led && found->partitions[i].leader >= 0;
      }
      if (all_led) {
        std::sort(out.begin(), out.end());
        return out;
      }
      last_error = "partitions without leader";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // metadata retry interval
  } while (Clock::now() < deadline);
  throw std::runtime_error("metadata of topic " + topic + ": " + last_error);
}

namespace {

using Event = std::unique_ptr<rd_kafka_event_t, void (*)(rd_kafka_event_t*)>;
using Queue = std::unique_ptr<rd_kafka_queue_t, void (*)(rd_kafka_queue_t*)>;

// Waits for the answer of one topic admin request on `queue` and throws on any error but
// `tolerated` (what == "create_topic t" etc. for the message).
void check_topic_admin_answer(const std::string& what, rd_kafka_queue_t* queue,
                              std::chrono::milliseconds timeout,
                              const rd_kafka_topic_result_t** (*results_of)(rd_kafka_event_t*,
                                                                            size_t*),
                              rd_kafka_resp_err_t tolerated) {
  Event event(rd_kafka_queue_poll(queue, static_cast<int>(timeout.count())),
              rd_kafka_event_destroy);
  if (!event) {
    throw std::runtime_error(what + ": no answer within the timeout");
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(what + ": " + rd_kafka_event_error_string(event.get()));
  }
  size_t count = 0;
  const rd_kafka_topic_result_t** results = results_of(event.get(), &count);
  for (size_t i = 0; i < count; ++i) {
    const auto err = rd_kafka_topic_result_error(results[i]);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != tolerated) {
      const char* msg = rd_kafka_topic_result_error_string(results[i]);
      throw std::runtime_error(what + ": " + (msg != nullptr ? msg : rd_kafka_err2str(err)));
    }
  }
}

const rd_kafka_topic_result_t** created_topics(rd_kafka_event_t* event, size_t* count) {
  return rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), count);
}

const rd_kafka_topic_result_t** grown_topics(rd_kafka_event_t* event, size_t* count) {
  return rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(event),
                                                 count);
}

}  // namespace

void KafkaTestCluster::create_topic(const std::string& topic, int partitions,
                                    std::chrono::milliseconds timeout) {
  rd_kafka_t* rk = producer();
  char errstr[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, errstr, sizeof errstr);
  if (nt == nullptr) {
    throw std::runtime_error("create_topic " + topic + ": " + errstr);
  }
  std::unique_ptr<rd_kafka_NewTopic_t, void (*)(rd_kafka_NewTopic_t*)> new_topic(
      nt, rd_kafka_NewTopic_destroy);
  Queue queue(rd_kafka_queue_new(rk), rd_kafka_queue_destroy);
  rd_kafka_NewTopic_t* topics[] = {new_topic.get()};
  rd_kafka_CreateTopics(rk, topics, 1, nullptr, queue.get());
  check_topic_admin_answer("create_topic " + topic, queue.get(), timeout, created_topics,
                           RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
  wait_for_partitions(topic, partitions, timeout);
}

void KafkaTestCluster::add_partitions(const std::string& topic, int total,
                                      std::chrono::milliseconds timeout) {
  rd_kafka_t* rk = producer();
  char errstr[512];
  rd_kafka_NewPartitions_t* np =
      rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(total), errstr, sizeof errstr);
  if (np == nullptr) {
    throw std::runtime_error("add_partitions " + topic + ": " + errstr);
  }
  std::unique_ptr<rd_kafka_NewPartitions_t, void (*)(rd_kafka_NewPartitions_t*)> grow(
      np, rd_kafka_NewPartitions_destroy);
  Queue queue(rd_kafka_queue_new(rk), rd_kafka_queue_destroy);
  rd_kafka_NewPartitions_t* requests[] = {grow.get()};
  rd_kafka_CreatePartitions(rk, requests, 1, nullptr, queue.get());
  check_topic_admin_answer("add_partitions " + topic, queue.get(), timeout, grown_topics,
                           RD_KAFKA_RESP_ERR_NO_ERROR);
  wait_for_partitions(topic, total, timeout);
}

void KafkaTestCluster::wait_for_partitions(const std::string& topic, int partitions,
                                           std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    auto ids = partitions_of(topic, std::chrono::milliseconds(std::max(1, remaining_ms(deadline))));
    if (static_cast<int>(ids.size()) >= partitions) {
      return;
    }
    if (Clock::now() >= deadline) {
      throw std::runtime_error("topic " + topic + ": metadata shows " + std::to_string(ids.size()) +
                               " partitions, not " + std::to_string(partitions));
    }
  }
}

std::optional<int> KafkaTestCluster::partition_count(const std::string& topic,
                                                     std::chrono::milliseconds timeout) {
  try {
    return static_cast<int>(partitions_of(topic, timeout).size());
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
}

void KafkaTestCluster::produce(const std::string& topic, const std::vector<TestRecord>& records,
                               std::chrono::milliseconds timeout) {
  rd_kafka_t* rk = producer();
  DeliveryState state;
  const auto deadline = Clock::now() + timeout;
  for (const auto& record : records) {
    const void* key = record.key ? record.key->data() : nullptr;
    const size_t key_len = record.key ? record.key->size() : 0;
    while (true) {
      rd_kafka_headers_t* headers = rd_kafka_headers_new(record.headers.size());
      for (const auto& [name, value] : record.headers) {
        rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                            static_cast<ssize_t>(value.size()));
      }
      const auto err = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(record.partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
          RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
          RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(&state), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        break;  // headers now owned by the message
      }
      rd_kafka_headers_destroy(headers);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || Clock::now() >= deadline) {
        fail("produce to " + topic, err);
      }
      rd_kafka_poll(rk, 50);  // serve delivery reports to make room
    }
    rd_kafka_poll(rk, 0);
  }
  while (state.done < records.size() && Clock::now() < deadline) {
    rd_kafka_poll(rk, 100);
  }
  if (state.done < records.size()) {
    throw std::runtime_error("produce to " + topic + ": " +
                             std::to_string(records.size() - state.done) +
                             " deliveries missing at the deadline");
  }
  if (!state.first_error.empty()) {
    throw std::runtime_error("produce to " + topic + ": delivery failed: " + state.first_error);
  }
}

std::vector<ConsumedRecord> KafkaTestCluster::consume(const std::string& topic, std::size_t count,
                                                      std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const auto partitions = partitions_of(topic, timeout);
  Handle consumer = new_consumer();
  List list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (auto p : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  if (auto err = rd_kafka_assign(consumer.get(), list.get())) {
    fail("assign " + topic, err);
  }
  std::vector<ConsumedRecord> out;
  while ((count == 0 || out.size() < count) && Clock::now() < deadline) {
    Message m(rd_kafka_consumer_poll(consumer.get(), std::min(100, remaining_ms(deadline))));
    if (!m) {
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fail("consume " + topic, m->err);
    }
    out.push_back(to_record(m.get()));
  }
  rd_kafka_consumer_close(consumer.get());
  sort_records(out);
  return out;
}

std::vector<ConsumedRecord> KafkaTestCluster::read_all(const std::string& topic,
                                                       std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const auto partitions = partitions_of(topic, timeout);
  Handle consumer = new_consumer();
  List list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  std::map<std::int32_t, std::int64_t> end;
  for (auto p : partitions) {
    const auto marks = watermarks(topic, p, std::chrono::milliseconds(remaining_ms(deadline)));
    if (marks.high > marks.low) {
      end[p] = marks.high;
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = marks.low;
    }
  }
  std::vector<ConsumedRecord> out;
  if (end.empty()) {
    return out;
  }
  if (auto err = rd_kafka_assign(consumer.get(), list.get())) {
    fail("assign " + topic, err);
  }
  std::map<std::int32_t, std::int64_t> next;  // next offset to read, per partition
  auto done = [&] {
    return std::all_of(end.begin(), end.end(), [&](const auto& e) {
      auto it = next.find(e.first);
      return it != next.end() && it->second >= e.second;
    });
  };
  while (!done()) {
    if (Clock::now() >= deadline) {
      throw std::runtime_error("read_all " + topic + ": not at the end by the deadline (read " +
                               std::to_string(out.size()) + ")");
    }
    Message m(rd_kafka_consumer_poll(consumer.get(), std::min(100, remaining_ms(deadline))));
    if (!m) {
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      next[m->partition] = std::max(next[m->partition], m->offset);
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fail("consume " + topic, m->err);
    }
    next[m->partition] = m->offset + 1;
    if (m->offset < end[m->partition]) {
      out.push_back(to_record(m.get()));
    }
  }
  rd_kafka_consumer_close(consumer.get());
  sort_records(out);
  return out;
}

Watermarks KafkaTestCluster::watermarks(const std::string& topic, std::int32_t partition,
                                        std::chrono::milliseconds timeout) {
  // Right after a broker (re)start or a new partition, metadata can name a leader a moment before
  // that broker serves the partition: such answers are retried until the timeout.
  const auto deadline = Clock::now() + timeout;
  while (true) {
    Watermarks w;
    const auto err = rd_kafka_query_watermark_offsets(producer(), topic.c_str(), partition, &w.low,
                                                      &w.high, std::max(1, remaining_ms(deadline)));
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      return w;
    }
    const bool settling = err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
                          err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
                          err == RD_KAFKA_RESP_ERR__TRANSPORT;
    if (!settling || Clock::now() >= deadline) {
      fail("watermarks of " + topic + "[" + std::to_string(partition) + "]", err);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // retry pacing, not a wait
  }
}

std::map<std::int32_t, std::int64_t> KafkaTestCluster::committed_offsets(
    const std::string& group, const std::string& topic, std::chrono::milliseconds timeout) {
  const auto partitions = partitions_of(topic, timeout);
  Conf conf(rd_kafka_conf_new());
  set(conf.get(), "bootstrap.servers", bootstrap_);
  set(conf.get(), "group.id", group);
  set(conf.get(), "enable.auto.commit", "false");
  set(conf.get(), "log_level", "3");
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr);
  if (rk == nullptr) {
    throw std::runtime_error(std::string("committed_offsets consumer: ") + errstr);
  }
  conf.release();
  Handle consumer(rk, rd_kafka_destroy);
  List list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (auto p : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
  }
  if (auto err =
          rd_kafka_committed(consumer.get(), list.get(), static_cast<int>(timeout.count()))) {
    fail("committed offsets of " + group, err);
  }
  std::map<std::int32_t, std::int64_t> out;
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR && list->elems[i].offset >= 0) {
      out[list->elems[i].partition] = list->elems[i].offset;
    }
  }
  rd_kafka_consumer_close(consumer.get());
  return out;
}

namespace {

void run_script(const std::string& script, const std::vector<std::string>& args,
                const std::string& expect_prefix = "") {
  std::vector<std::string> argv = {env_or_empty("SFKB_KAFKA_SCRIPTS") + "/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  Process::Options options;
  options.args = argv;
  options.tail_lines_on_failure = 0;
  Process p(options);
  const auto code = p.wait_for_exit(std::chrono::seconds(120));
  if (!code) {
    p.kill();
    throw std::runtime_error("tests/kafka/" + script + " did not finish:\n" + p.output());
  }
  // The child has exited, but the reader thread may not have taken its last line from the pipe
  // yet: wait for the line (it returns at once when the output has ended without it).
  if (*code != 0 ||
      (!expect_prefix.empty() && !p.wait_for_line(expect_prefix, std::chrono::seconds(10)))) {
    throw std::runtime_error("tests/kafka/" + script + " failed (exit " + std::to_string(*code) +
                             "):\n" + p.output());
  }
}

}  // namespace

void KafkaTestCluster::stop_broker(bool kill) {
  if (!can_restart()) {
    throw std::runtime_error("stop_broker: SFKB_KAFKA_DIR / SFKB_KAFKA_SCRIPTS not set");
  }
  std::vector<std::string> args = {env_or_empty("SFKB_KAFKA_DIR")};
  if (kill) {
    args.emplace_back("--kill");
  }
  run_script("stop", args);
}

void KafkaTestCluster::start_broker() {
  if (!can_restart()) {
    throw std::runtime_error("start_broker: SFKB_KAFKA_DIR / SFKB_KAFKA_SCRIPTS not set");
  }
  run_script("start", {env_or_empty("SFKB_KAFKA_DIR"), "--keep"}, "bootstrap=" + bootstrap_);
}

BrokerOutage::BrokerOutage(KafkaTestCluster& kafka, bool kill) : kafka_(kafka) {
  kafka_.stop_broker(kill);
}

BrokerOutage::~BrokerOutage() {
  try {
    end();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "restarting the broker after an outage failed: " << e.what();
  }
}

void BrokerOutage::end() {
  if (active_) {
    active_ = false;
    kafka_.start_broker();
  }
}

}  // namespace sfkb::it
