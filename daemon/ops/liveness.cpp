#include "daemon/ops/liveness.h"

namespace sfkb::ops {

Liveness& Liveness::global() {
  static Liveness registry;
  return registry;
}

Heartbeat& Liveness::heartbeat(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = beats_.find(name);
  if (it == beats_.end()) {
    it = beats_.emplace(std::string(name), std::make_unique<Heartbeat>()).first;
  }
  return *it->second;
}

std::optional<std::string> Liveness::stale(std::chrono::steady_clock::duration max_age,
                                           Heartbeat::Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  std::optional<std::string> stalest;
  auto oldest = now;
  for (const auto& [name, beat] : beats_) {
    const auto last = beat->last();
    if (now - last > max_age && last <= oldest) {
      oldest = last;
      stalest = name;
    }
  }
  return stalest;
}

}  // namespace sfkb::ops
