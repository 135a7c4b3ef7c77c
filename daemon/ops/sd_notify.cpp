#include "daemon/ops/sd_notify.h"

#include <systemd/sd-daemon.h>

#include <string>

#include "daemon/core/stop.h"
#include "daemon/ops/log.h"
#include "daemon/ops/log_fields.h"

namespace sfkb::ops {

void SystemdNotifier::notify(std::string_view state) {
  const std::string message(state);
  // Failures (socket gone, permission) are not worth stopping for: systemd notices a missing
  // READY or WATCHDOG on its own. Debug level because it runs every few seconds.
  const int rc = sd_notify(0, message.c_str());
  if (rc < 0) {
    debug(logger("systemd"), "sd_notify failed: {}", field("error", -rc));
  }
}

std::optional<std::chrono::microseconds> watchdog_period() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
    return std::nullopt;
  }
  return std::chrono::microseconds(usec);
}

Watchdog::Watchdog(Notifier& notifier, const Liveness& liveness, std::chrono::microseconds period,
                   std::chrono::steady_clock::duration max_age)
    : notifier_(notifier),
      liveness_(liveness),
      period_(period),
      max_age_(max_age),
      thread_([this](std::stop_token stop) { loop(stop); }) {}

Watchdog::~Watchdog() {
  thread_.request_stop();
}

void Watchdog::loop(std::stop_token stop) {
  auto log = logger("systemd");
  // Half the period, as sd_watchdog_enabled(3) recommends, so one late ping is not fatal.
  const auto interval =
      std::max(std::chrono::milliseconds(1),
               std::chrono::duration_cast<std::chrono::milliseconds>(period_ / 2));
  bool pinging = true;
  while (!stop.stop_requested()) {
    if (auto stale = liveness_.stale(max_age_)) {
      if (pinging) {
        error(log,
              "watchdog pings suspended: {} made no progress for more than {} s; systemd will "
              "restart the service unless it recovers",
              field("pipeline", *stale),
              std::chrono::duration_cast<std::chrono::seconds>(max_age_).count());
        pinging = false;
      }
    } else {
      if (!pinging) {
        log->warn("watchdog pings resumed: every pipeline makes progress again");
        pinging = true;
      }
      notifier_.notify("WATCHDOG=1");
    }
    core::interruptible_sleep(stop, interval);
  }
}

}  // namespace sfkb::ops
