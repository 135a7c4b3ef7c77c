#include "daemon/ops/repeat_limiter.h"

#include <gtest/gtest.h>

namespace sfkb::ops {
namespace {

using namespace std::chrono_literals;

class RepeatLimiterTest : public ::testing::Test {
 protected:
  RepeatLimiter::Clock::time_point now_{};  // the injected clock: tests move it, nothing sleeps
  RepeatLimiter limiter_{10s, [this] { return now_; }};
};

TEST_F(RepeatLimiterTest, LogsTheFirstOccurrenceAtOnceWithoutASuffix) {
  auto first = limiter_.admit();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->occurrences, 1u);
  EXPECT_EQ(first->suffix(), "");
}

TEST_F(RepeatLimiterTest, CountsRepeatsWithinTheIntervalAndReportsThemWithTheNextLine) {
  ASSERT_TRUE(limiter_.admit());
  // 20 a second for just under 10 s: all counted, none logged
  int logged = 0;
  for (int i = 1; i < 200; ++i) {
    now_ += 50ms;
    logged += limiter_.admit() ? 1 : 0;
  }
  EXPECT_EQ(logged, 0);
  now_ += 100ms;  // 10 s after the first line
  auto next = limiter_.admit();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->occurrences, 200u);  // 199 counted + this one
  EXPECT_EQ(next->suffix(), " (x200 in the last 10 s)");
}

TEST_F(RepeatLimiterTest, AQuietPeriodStartsOverWithAPlainLine) {
  ASSERT_TRUE(limiter_.admit());
  now_ += 1min;
  auto later = limiter_.admit();
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(later->suffix(), "");
  now_ += 1s;
  EXPECT_FALSE(limiter_.admit().has_value());
}

TEST_F(RepeatLimiterTest, ASpanLongerThanTheIntervalIsReportedAsItWas) {
  ASSERT_TRUE(limiter_.admit());
  now_ += 2s;
  EXPECT_FALSE(limiter_.admit());
  now_ += 33s;
  auto next = limiter_.admit();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->suffix(), " (x2 in the last 35 s)");
}

}  // namespace
}  // namespace sfkb::ops
