#include "daemon/kafka/topic_creation.h"

#include <algorithm>
#include <set>

#include "daemon/kafka/error.h"
#include "daemon/kafka/handles.h"

namespace sfkb::kafka {
namespace {

using NewTopicPtr =
    std::unique_ptr<rd_kafka_NewTopic_t,
                    detail::Deleter<rd_kafka_NewTopic_t, rd_kafka_NewTopic_destroy>>;
using AdminOptionsPtr =
    std::unique_ptr<rd_kafka_AdminOptions_t,
                    detail::Deleter<rd_kafka_AdminOptions_t, rd_kafka_AdminOptions_destroy>>;
using EventPtr =
    std::unique_ptr<rd_kafka_event_t, detail::Deleter<rd_kafka_event_t, rd_kafka_event_destroy>>;

core::Result<std::set<std::string>> existing_topics(rd_kafka_t* rk,
                                                    std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(rk, 1, nullptr, &raw,
                                     static_cast<int>(std::max<long long>(0, timeout.count())));
  MetadataPtr metadata(raw);
  if (auto status = check(err, "kafka.create_topics: metadata"); !status) {
    return status.error();
  }
  std::set<std::string> names;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (metadata->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      names.insert(metadata->topics[i].topic);
    }
  }
  return names;
}

}  // namespace

core::Result<TopicCreation> create_missing_topics(const ClientConfig& config,
                                                  const std::vector<TopicSpec>& topics,
                                                  std::chrono::milliseconds timeout) {
  // A plain producer handle carries the admin requests; its own properties (idempotence, ...)
  // do not matter for them, but the connection settings (TLS, SASL) do.
  ConfPtr conf = config.make_conf();
  char errstr[512];
  HandlePtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr));
  if (!rk) {
    return core::fatal_error(std::string("kafka.create_topics: ") + errstr);
  }
  conf.release();  // owned by the handle now

  auto existing = existing_topics(rk.get(), timeout);
  if (!existing) {
    return existing.error();
  }
  TopicCreation result;
  std::vector<NewTopicPtr> owned;
  std::set<std::string> seen;
  for (const auto& spec : topics) {
    if (!seen.insert(spec.name).second) {
      continue;
    }
    if (existing->count(spec.name) != 0) {
      result.existing.push_back(spec.name);
      continue;
    }
    NewTopicPtr topic(rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions,
                                            spec.replication_factor, errstr, sizeof errstr));
    if (!topic) {
      return core::fatal_error("kafka.create_topics: topic " + spec.name + ": " + errstr);
    }
    for (const auto& [key, value] : spec.configs) {
      if (auto status = check(rd_kafka_NewTopic_set_config(topic.get(), key.c_str(), value.c_str()),
                              "kafka.create_topics: topic " + spec.name + " config " + key);
          !status) {
        return core::fatal_error(status.message());
      }
    }
    owned.push_back(std::move(topic));
  }
  if (owned.empty()) {
    return result;
  }

  AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
  const int timeout_ms = static_cast<int>(std::max<long long>(1, timeout.count()));
  rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, errstr, sizeof errstr);
  // The controller answers once the topics exist (or not), not as soon as it accepted the request.
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, errstr, sizeof errstr);
  QueuePtr queue(rd_kafka_queue_new(rk.get()));
  std::vector<rd_kafka_NewTopic_t*> raw;
  raw.reserve(owned.size());
  for (const auto& topic : owned) {
    raw.push_back(topic.get());
  }
  rd_kafka_CreateTopics(rk.get(), raw.data(), raw.size(), options.get(), queue.get());
  // A little beyond the request's own timeout: librdkafka then reports the timeout itself.
  EventPtr event(rd_kafka_queue_poll(queue.get(), timeout_ms + 5000));
  if (!event) {
    return core::Error{core::ErrorKind::kRetry,
                       "kafka.create_topics: no answer to CreateTopics within " +
                           std::to_string(timeout_ms) + " ms"};
  }
  if (auto status = check(rd_kafka_event_error(event.get()), "kafka.create_topics"); !status) {
    return status.error();
  }
  const rd_kafka_CreateTopics_result_t* reply = rd_kafka_event_CreateTopics_result(event.get());
  if (reply == nullptr) {
    return core::fatal_error("kafka.create_topics: unexpected reply to CreateTopics");
  }
  std::size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(reply, &count);
  std::string refused;
  core::ErrorKind kind = core::ErrorKind::kFatal;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string name = rd_kafka_topic_result_name(results[i]);
    const auto err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      result.created.push_back(name);
    } else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      result.existing.push_back(name);
    } else {
      const char* why = rd_kafka_topic_result_error_string(results[i]);
      refused += (refused.empty() ? "" : "; ") + name + ": " +
                 (why != nullptr && *why != '\0' ? why : rd_kafka_err2str(err)) + " (" +
                 rd_kafka_err2name(err) + ")";
      if (classify(err) == core::ErrorKind::kRetry) {
        kind = core::ErrorKind::kRetry;  // e.g. a timeout: worth a restart, unlike a policy
      }
    }
  }
  if (!refused.empty()) {
    return core::Error{kind, "kafka.create_topics: the cluster refused to create " + refused};
  }
  return result;
}

}  // namespace sfkb::kafka
