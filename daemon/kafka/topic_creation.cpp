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

using NewPartitionsPtr =
    std::unique_ptr<rd_kafka_NewPartitions_t,
                    detail::Deleter<rd_kafka_NewPartitions_t, rd_kafka_NewPartitions_destroy>>;

// A plain producer handle carries the admin requests; its own properties (idempotence, ...) do
// not matter for them, but the connection settings (TLS, SASL) do.
core::Result<HandlePtr> admin_handle(const ClientConfig& config, const std::string& what) {
  ConfPtr conf = config.make_conf();
  char errstr[512];
  HandlePtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof errstr));
  if (!rk) {
    return core::fatal_error(what + ": " + errstr);
  }
  conf.release();  // owned by the handle now
  return rk;
}

// Options whose request and operation time out after `timeout`: the controller answers once the
// change is made (or not), not as soon as it accepted the request.
AdminOptionsPtr admin_options(rd_kafka_t* rk, rd_kafka_admin_op_t op, int timeout_ms) {
  char errstr[512];
  AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk, op));
  rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, errstr, sizeof errstr);
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, errstr, sizeof errstr);
  return options;
}

// The answer to an admin request, waited for a little beyond the request's own timeout
// (librdkafka then reports the timeout itself); kRetry when none came.
core::Result<EventPtr> admin_reply(rd_kafka_queue_t* queue, int timeout_ms,
                                   const std::string& what) {
  EventPtr event(rd_kafka_queue_poll(queue, timeout_ms + 5000));
  if (!event) {
    return core::Error{core::ErrorKind::kRetry,
                       what + ": no answer within " + std::to_string(timeout_ms) + " ms"};
  }
  if (auto status = check(rd_kafka_event_error(event.get()), what); !status) {
    return status.error();
  }
  return event;
}

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
  auto handle = admin_handle(config, "kafka.create_topics");
  if (!handle) {
    return handle.error();
  }
  HandlePtr rk = std::move(handle.value());
  char errstr[512];

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

  const int timeout_ms = static_cast<int>(std::max<long long>(1, timeout.count()));
  AdminOptionsPtr options = admin_options(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms);
  QueuePtr queue(rd_kafka_queue_new(rk.get()));
  std::vector<rd_kafka_NewTopic_t*> raw;
  raw.reserve(owned.size());
  for (const auto& topic : owned) {
    raw.push_back(topic.get());
  }
  rd_kafka_CreateTopics(rk.get(), raw.data(), raw.size(), options.get(), queue.get());
  auto event = admin_reply(queue.get(), timeout_ms, "kafka.create_topics");
  if (!event) {
    return event.error();
  }
  const rd_kafka_CreateTopics_result_t* reply =
      rd_kafka_event_CreateTopics_result(event.value().get());
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

core::Status add_partitions(const ClientConfig& config, const std::string& topic, int total,
                            std::chrono::milliseconds timeout) {
  const std::string what = "kafka: adding partitions to " + topic;
  auto handle = admin_handle(config, what);
  if (!handle) {
    return handle.error();
  }
  HandlePtr rk = std::move(handle.value());
  char errstr[512];
  NewPartitionsPtr partitions(rd_kafka_NewPartitions_new(
      topic.c_str(), static_cast<std::size_t>(total), errstr, sizeof errstr));
  if (!partitions) {
    return core::fatal_error(what + ": " + errstr);
  }
  const int timeout_ms = static_cast<int>(std::max<long long>(1, timeout.count()));
  AdminOptionsPtr options = admin_options(rk.get(), RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, timeout_ms);
  QueuePtr queue(rd_kafka_queue_new(rk.get()));
  rd_kafka_NewPartitions_t* raw = partitions.get();
  rd_kafka_CreatePartitions(rk.get(), &raw, 1, options.get(), queue.get());
  auto event = admin_reply(queue.get(), timeout_ms, what);
  if (!event) {
    return event.error();
  }
  const rd_kafka_CreatePartitions_result_t* reply =
      rd_kafka_event_CreatePartitions_result(event.value().get());
  if (reply == nullptr) {
    return core::fatal_error(what + ": unexpected reply to CreatePartitions");
  }
  std::size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreatePartitions_result_topics(reply, &count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto err = rd_kafka_topic_result_error(results[i]);
    // INVALID_PARTITIONS: the topic has `total` or more already (another instance was first).
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS) {
      continue;
    }
    const char* why = rd_kafka_topic_result_error_string(results[i]);
    return core::Error{classify(err) == core::ErrorKind::kRetry ? core::ErrorKind::kRetry
                                                                : core::ErrorKind::kFatal,
                       what + ": the cluster refused: " +
                           (why != nullptr && *why != '\0' ? why : rd_kafka_err2str(err)) + " (" +
                           rd_kafka_err2name(err) + ")"};
  }
  return core::Status::ok();
}

}  // namespace sfkb::kafka
