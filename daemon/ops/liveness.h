#pragma once
// Liveness heartbeats for the systemd watchdog. Each pipeline loop beats its heartbeat once per
// iteration (after every long poll, every consumer poll, every backoff step); the watchdog pings
// systemd only while every registered heartbeat is recent. A loop that hangs - a deadlock, a call
// that never returns - stops beating, the pings stop, and systemd restarts the service. A
// pipeline that merely waits (a quiet 110 s long poll, a backoff) still beats, so it stays alive.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace sfkb::ops {

class Heartbeat {
 public:
  using Clock = std::chrono::steady_clock;

  Heartbeat() { beat(); }
  // Cheap enough for every loop iteration: one relaxed atomic store.
  void beat() { last_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed); }
  Clock::time_point last() const {
    return Clock::time_point(Clock::duration(last_.load(std::memory_order_relaxed)));
  }

 private:
  std::atomic<Clock::rep> last_{0};
};

class Liveness {
 public:
  // The process-wide registry the pipelines and the watchdog share; tests may make their own.
  static Liveness& global();

  // The heartbeat named `name`, created (and beaten) on first use. The reference stays valid for
  // the registry's lifetime, so a loop looks it up once and beats it without locking.
  Heartbeat& heartbeat(std::string_view name);

  // The name of a heartbeat older than `max_age` at `now` (the stalest one), or nullopt when all
  // are recent. With no heartbeat registered everything counts as recent.
  std::optional<std::string> stale(
      std::chrono::steady_clock::duration max_age,
      Heartbeat::Clock::time_point now = Heartbeat::Clock::now()) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Heartbeat>, std::less<>> beats_;
};

}  // namespace sfkb::ops
