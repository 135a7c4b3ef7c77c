#pragma once
// Exponential backoff with full jitter (AWS architecture blog's "full jitter"): the n-th wait is
// uniform in [0, min(cap, base * 2^n)]. Spreads reconnect storms from many bridges after an
// outage, which plain exponential backoff would synchronise.

#include <chrono>
#include <cstdint>
#include <random>

namespace sfkb::core {

struct BackoffPolicy {
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds max{30000};
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy, std::uint64_t seed = std::random_device{}());
  // The wait before the next attempt; each call doubles the ceiling up to policy.max.
  std::chrono::milliseconds next();
  // The current ceiling (for logs): the upper bound of what next() may return now.
  std::chrono::milliseconds ceiling() const;
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  BackoffPolicy policy_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace sfkb::core
