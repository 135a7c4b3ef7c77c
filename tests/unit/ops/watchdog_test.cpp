#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/ops/liveness.h"
#include "daemon/ops/sd_notify.h"

namespace sfkb::ops {
namespace {

using namespace std::chrono_literals;

// Records what would go to $NOTIFY_SOCKET and lets a test wait for a message with a deadline.
class RecordingNotifier final : public Notifier {
 public:
  void notify(std::string_view state) override {
    std::lock_guard lock(mutex_);
    messages_.emplace_back(state);
    cv_.notify_all();
  }
  bool wait_for_count(std::size_t n, std::chrono::milliseconds deadline) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, deadline, [&] { return messages_.size() >= n; });
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> messages_;
};

TEST(Liveness, ReportsTheStalestHeartbeatOlderThanTheLimit) {
  Liveness liveness;
  auto& a = liveness.heartbeat("subscribe");
  auto& b = liveness.heartbeat("publish");
  a.beat();
  b.beat();
  const auto now = Heartbeat::Clock::now();
  EXPECT_FALSE(liveness.stale(10s, now).has_value());
  // Ten minutes later with no beat both are stale; the one beaten first is reported.
  EXPECT_TRUE(liveness.stale(10s, now + 10min).has_value());
  b.beat();
  EXPECT_EQ(liveness.stale(10s, Heartbeat::Clock::now() + 11s).value_or(""), "subscribe");
}

TEST(Liveness, SameNameIsTheSameHeartbeat) {
  Liveness liveness;
  EXPECT_EQ(&liveness.heartbeat("x"), &liveness.heartbeat("x"));
}

TEST(Watchdog, PingsWhileEveryHeartbeatIsRecent) {
  Liveness liveness;
  liveness.heartbeat("subscribe").beat();
  RecordingNotifier notifier;
  Watchdog watchdog(notifier, liveness, 20ms, 1h);
  EXPECT_TRUE(notifier.wait_for_count(3, 5s));
}

TEST(Watchdog, StopsPingingWhenAPipelineStalls) {
  Liveness liveness;
  liveness.heartbeat("subscribe");  // beaten once at creation, never again
  RecordingNotifier notifier;
  // max_age 0: the heartbeat is stale from the first check on.
  {
    Watchdog watchdog(notifier, liveness, 2ms, 0ms);
    // Give the thread many periods; a wait on a message that must never come, with a deadline.
    EXPECT_FALSE(notifier.wait_for_count(1, 200ms));
  }
  EXPECT_EQ(notifier.count(), 0u);
}

}  // namespace
}  // namespace sfkb::ops
