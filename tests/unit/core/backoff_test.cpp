#include "daemon/core/backoff.h"

#include <gtest/gtest.h>

namespace sfkb::core {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, CeilingDoublesUntilTheCap) {
  Backoff backoff({milliseconds(100), milliseconds(1000)}, 42);
  EXPECT_EQ(backoff.ceiling(), milliseconds(100));
  backoff.next();
  EXPECT_EQ(backoff.ceiling(), milliseconds(200));
  backoff.next();
  backoff.next();
  EXPECT_EQ(backoff.ceiling(), milliseconds(800));
  backoff.next();
  EXPECT_EQ(backoff.ceiling(), milliseconds(1000));
  for (int i = 0; i < 100; ++i) {
    backoff.next();
  }
  EXPECT_EQ(backoff.ceiling(), milliseconds(1000));
}

TEST(Backoff, WaitsAreFullyJitteredWithinTheCeiling) {
  Backoff backoff({milliseconds(1000), milliseconds(1000)}, 7);
  milliseconds lowest(1000), highest(0);
  for (int i = 0; i < 1000; ++i) {
    const auto wait = backoff.next();
    ASSERT_GE(wait.count(), 0);
    ASSERT_LE(wait.count(), 1000);
    lowest = std::min(lowest, wait);
    highest = std::max(highest, wait);
  }
  // Full jitter spreads over the whole range, not just near the ceiling.
  EXPECT_LT(lowest.count(), 100);
  EXPECT_GT(highest.count(), 900);
}

TEST(Backoff, ResetStartsOverFromTheInitialCeiling) {
  Backoff backoff({milliseconds(10), milliseconds(10000)}, 1);
  backoff.next();
  backoff.next();
  backoff.reset();
  EXPECT_EQ(backoff.attempts(), 0);
  EXPECT_EQ(backoff.ceiling(), milliseconds(10));
}

}  // namespace
}  // namespace sfkb::core
