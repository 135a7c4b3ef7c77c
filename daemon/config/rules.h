#pragma once
// The rules that relate several settings, as explicit code: each runs once the mapping it
// concerns has been read field by field from the schema (fields.cpp), and reports at the setting
// it blames.

#include "daemon/config/config.h"
#include "daemon/config/yaml_reader.h"

namespace sfkb::config::rules {

// salesforce.retry: initial_backoff <= max_backoff.
void retry_order(Reader& reader, const Map& m, RetryConfig& retry);

// salesforce.auth: the fields each flow needs, and jwt_bearer's key (a readable PEM file or the
// PEM itself, not both).
void auth_flow_requirements(Reader& reader, const Map& m, AuthConfig& auth);

// kafka: $KAFKA_URL and $KAFKA_PREFIX fill what the file leaves empty (Heroku); a broker list is
// required unless kafka.embedded.
void kafka_environment(Reader& reader, const Map& m, KafkaConfig& kafka);

// kafka.create_topics: partitions and replication_factor are -1 (the broker's default) or at
// least 1; their bounds allow 0 only to report it with this reason.
void topic_creation_counts(Reader& reader, const Map& m, TopicCreationConfig& creation);

// coordination: the topic's name with kafka.topic_prefix (unless kafka.embedded); a non-empty
// group.
void coordination_names(Reader& reader, const Map& m, CoordinationConfig& coordination);

// subscribe[]: the topic name with kafka.topic_prefix; event_uuid keys only on /event/ channels;
// the channel and topic remembered for across_mappings.
void subscribe_mapping(Reader& reader, const Map& m, SubscribeMapping& mapping);

// publish[]: the dead-letter topic's name, and that on_error: dead_letter needs one.
void publish_mapping(Reader& reader, const Map& m, PublishMapping& mapping);

// The whole file: something to bridge, each channel once, no topic filled by a channel and
// published back as that same event (a loop), no dead-letter topic that is also a source or a
// destination.
void across_mappings(Reader& reader, const Map& top, Config& config);

}  // namespace sfkb::config::rules
