#include "daemon/core/backoff.h"

#include <algorithm>

namespace sfkb::core {

Backoff::Backoff(BackoffPolicy policy, std::uint64_t seed) : policy_(policy), rng_(seed) {}

std::chrono::milliseconds Backoff::ceiling() const {
  // Doubling stops long before overflow: 2^20 * initial already exceeds any sane max.
  const int shift = std::min(attempt_, 20);
  const auto grown = policy_.initial.count() << shift;
  return std::chrono::milliseconds(std::min<std::int64_t>(grown, policy_.max.count()));
}

std::chrono::milliseconds Backoff::next() {
  const auto cap = ceiling();
  ++attempt_;
  std::uniform_int_distribution<std::int64_t> pick(0, cap.count());
  return std::chrono::milliseconds(pick(rng_));
}

}  // namespace sfkb::core
