#pragma once
// librdkafka's own log lines, routed to the "kafka" spdlog logger (from librdkafka's threads;
// spdlog loggers are thread-safe).

#include <librdkafka/rdkafka.h>
#include <spdlog/common.h>

#include <string_view>

namespace sfkb::kafka {

void install_logging(rd_kafka_conf_t* conf);

// The client.id of the handle that owns the embedded mock cluster (kafka.embedded): it never
// connects anywhere, so librdkafka's "No `bootstrap.servers` configured" notice about it is
// expected.
inline constexpr const char* kEmbeddedOwnerClientId = "sf-kafka-bridge-embedded";

// The spdlog level of one librdkafka log line (pure). Syslog levels map as 0-3 error, 4 warn,
// 5-6 info, 7 debug, except for the configuration notices the bridge causes on purpose, which
// are debug: the experimental-property notice for enable.gapless.guarantee (the bridge enforces
// it, see client_config.h) and the missing bootstrap.servers of the embedded cluster's owner
// handle (`handle` is rd_kafka_name(), "<client.id>#<type>-<n>"). Any other notice keeps its level.
spdlog::level::level_enum level_for(int syslog_level, std::string_view handle,
                                    std::string_view facility, std::string_view message);

}  // namespace sfkb::kafka
