#include "daemon/kafka/logging.h"

#include <cstdlib>
#include <exception>
#include <mutex>
#include <shared_mutex>

#include "daemon/ops/log.h"

namespace sfkb::kafka {
namespace {

// librdkafka's threads may still run while the process exits (a handle kept until exit, see
// destroy_would_abort() in consumer.h), and spdlog's registry is destroyed with the statics. The
// gate is closed by an atexit handler, which runs before the statics constructed earlier are
// destroyed; a line being logged holds the gate open until it is written. Never destroyed.
struct Gate {
  std::shared_mutex mutex;
  bool open = true;
};
Gate& gate() {
  static auto* instance = new Gate();
  return *instance;
}

void close_gate() {
  std::unique_lock lock(gate().mutex);
  gate().open = false;
}

// Runs on librdkafka's threads; must not throw into C.
void log_line(const rd_kafka_t* rk, int level, const char* facility, const char* message) noexcept {
  try {
    std::shared_lock lock(gate().mutex);
    if (!gate().open) {
      return;
    }
    auto log = ops::logger("kafka");
    const char* name = rk != nullptr ? rd_kafka_name(rk) : "-";
    log->log(level_for(level, name, facility != nullptr ? facility : "",
                       message != nullptr ? message : ""),
             "librdkafka {} {}: {}", name, facility, message);
  } catch (...) {
  }
}

}  // namespace

spdlog::level::level_enum level_for(int syslog_level, std::string_view handle,
                                    std::string_view facility, std::string_view message) {
  if (facility == "CONFWARN") {
    if (message.find("property enable.gapless.guarantee is experimental") !=
        std::string_view::npos) {
      return spdlog::level::debug;
    }
    const std::string_view owner = kEmbeddedOwnerClientId;
    if (message.find("No `bootstrap.servers` configured") != std::string_view::npos &&
        handle.substr(0, owner.size() + 1) == std::string(owner) + "#") {
      return spdlog::level::debug;
    }
  }
  if (syslog_level <= 3) {
    return spdlog::level::err;
  }
  if (syslog_level == 4) {
    return spdlog::level::warn;
  }
  if (syslog_level <= 6) {
    return spdlog::level::info;
  }
  return spdlog::level::debug;
}

void install_logging(rd_kafka_conf_t* conf) {
  static std::once_flag registered;
  std::call_once(registered, [] {
    ops::logger("kafka");  // spdlog's registry exists before the handler is registered
    std::atexit(close_gate);
  });
  rd_kafka_conf_set_log_cb(conf, log_line);
}

}  // namespace sfkb::kafka
