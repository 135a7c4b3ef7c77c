#pragma once
// The systemd notification protocol (sd_notify(3)): READY=1, STATUS=..., WATCHDOG=1, STOPPING=1.
// Outside systemd (no $NOTIFY_SOCKET) every call is a no-op, so the daemon behaves the same under
// Docker, Heroku or a shell.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "daemon/ops/liveness.h"

namespace sfkb::ops {

// The seam the supervisor and the watchdog talk to, so tests can record what would be sent.
class Notifier {
 public:
  virtual ~Notifier() = default;
  // One sd_notify(3) state string, e.g. "READY=1\nSTATUS=running". Thread-safe.
  virtual void notify(std::string_view state) = 0;
};

// sd_notify(0, ...) from libsystemd; the environment is kept so the watchdog thread and later
// messages still find $NOTIFY_SOCKET.
class SystemdNotifier final : public Notifier {
 public:
  void notify(std::string_view state) override;
};

// systemd's watchdog period from $WATCHDOG_USEC (and $WATCHDOG_PID, when set, must be us), or
// nullopt when the service runs without WatchdogSec=.
std::optional<std::chrono::microseconds> watchdog_period();

// Pings WATCHDOG=1 every half period on its own thread, but only while no heartbeat of `liveness`
// is older than `max_age`: a stalled pipeline makes the pings stop and systemd restart the
// service. Logs once when the pings stop and once when they resume.
class Watchdog {
 public:
  Watchdog(Notifier& notifier, const Liveness& liveness, std::chrono::microseconds period,
           std::chrono::steady_clock::duration max_age);
  ~Watchdog();  // stops and joins the thread
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  void loop(std::stop_token stop);

  Notifier& notifier_;
  const Liveness& liveness_;
  std::chrono::microseconds period_;
  std::chrono::steady_clock::duration max_age_;
  std::jthread thread_;
};

}  // namespace sfkb::ops
