#pragma once
// Creating the topics the bridge writes to (kafka.create_topics, off by default), the way Kafka
// Connect's topic.creation.* does for a source connector's topics: at start-up, only topics that
// do not exist yet, with the configured partition count, replication factor and topic configs.
// Existing topics are never altered. Managed clusters often forbid creating topics (a policy or
// an ACL): that error names the topic and the broker's reason.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "daemon/core/result.h"
#include "daemon/kafka/client_config.h"

namespace sfkb::kafka {

struct TopicSpec {
  std::string name;                            // the full name (kafka.topic_prefix included)
  int partitions = -1;                         // -1: the broker's num.partitions
  int replication_factor = -1;                 // -1: the broker's default.replication.factor
  std::map<std::string, std::string> configs;  // cleanup.policy, retention.ms, ...
};

struct TopicCreation {
  std::vector<std::string> created;   // created now
  std::vector<std::string> existing;  // already there (or created meanwhile by someone else)
};

// Looks the topics up in all-topics metadata (which never auto-creates) and creates the missing
// ones with one CreateTopics request, waiting up to `timeout` for the controller's answer.
// TOPIC_ALREADY_EXISTS counts as existing (another instance won the race). Errors: kRetry when
// the cluster cannot be reached or timed out; kFatal when it refused (policy violation,
// authorization, an invalid config or replication factor), with every refused topic named.
core::Result<TopicCreation> create_missing_topics(const ClientConfig& config,
                                                  const std::vector<TopicSpec>& topics,
                                                  std::chrono::milliseconds timeout);

// Raises `topic` to `total` partitions with one CreatePartitions request (only ever more: a
// topic that already has `total` or more is left as it is, which is also how a race with another
// instance doing the same ends). For the bridge's own record-less coordination topic only: adding
// partitions to a topic that holds keyed records would move keys between partitions. Errors as
// create_missing_topics: kRetry when unreachable or timed out, kFatal when refused, with the
// broker's reason.
core::Status add_partitions(const ClientConfig& config, const std::string& topic, int total,
                            std::chrono::milliseconds timeout);

}  // namespace sfkb::kafka
