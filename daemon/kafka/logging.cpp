#include "daemon/kafka/logging.h"

#include <exception>

#include "daemon/ops/log.h"

namespace sfkb::kafka {
namespace {

// Runs on librdkafka's threads; must not throw into C.
void log_line(const rd_kafka_t* rk, int level, const char* facility, const char* message) noexcept {
  try {
    auto log = ops::logger("kafka");
    spdlog::level::level_enum lvl = spdlog::level::debug;
    if (level <= 3) {
      lvl = spdlog::level::err;
    } else if (level == 4) {
      lvl = spdlog::level::warn;
    } else if (level <= 6) {
      lvl = spdlog::level::info;
    }
    log->log(lvl, "librdkafka {} {}: {}", rk != nullptr ? rd_kafka_name(rk) : "-", facility,
             message);
  } catch (...) {
  }
}

}  // namespace

void install_logging(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_log_cb(conf, log_line);
}

}  // namespace sfkb::kafka
