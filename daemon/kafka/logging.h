#pragma once
// librdkafka's own log lines, routed to the "kafka" spdlog logger (from librdkafka's threads;
// spdlog loggers are thread-safe).

#include <librdkafka/rdkafka.h>

namespace sfkb::kafka {

void install_logging(rd_kafka_conf_t* conf);

}  // namespace sfkb::kafka
