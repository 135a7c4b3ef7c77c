#include "daemon/core/stop.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace sfkb::core {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(InterruptibleSleep, ReturnsTrueWhenTheFullTimeElapsed) {
  std::stop_source source;
  const auto start = Clock::now();
  EXPECT_TRUE(interruptible_sleep(source.get_token(), milliseconds(20)));
  EXPECT_GE(Clock::now() - start, milliseconds(20));
}

TEST(InterruptibleSleep, ReturnsFalseAtOnceWhenAlreadyStopped) {
  std::stop_source source;
  source.request_stop();
  const auto start = Clock::now();
  EXPECT_FALSE(interruptible_sleep(source.get_token(), std::chrono::hours(1)));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST(InterruptibleSleep, ReturnsFalseWhenStoppedDuringTheSleep) {
  std::stop_source source;
  std::jthread stopper([&source] {
    std::this_thread::sleep_for(milliseconds(20));  // the stop must arrive mid-sleep
    source.request_stop();
  });
  const auto start = Clock::now();
  EXPECT_FALSE(interruptible_sleep(source.get_token(), std::chrono::hours(1)));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace sfkb::core
