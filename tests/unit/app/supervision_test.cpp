#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/app/supervision.h"

namespace sfkb::app {
namespace {

using namespace std::chrono_literals;

class RecordingNotifier final : public ops::Notifier {
 public:
  void notify(std::string_view state) override {
    std::lock_guard lock(mutex_);
    messages_.emplace_back(state);
    cv_.notify_all();
  }
  bool wait_for(std::string_view prefix, std::chrono::milliseconds deadline) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, deadline, [&] { return has_locked(prefix); });
  }
  bool has(std::string_view prefix) {
    std::lock_guard lock(mutex_);
    return has_locked(prefix);
  }

 private:
  bool has_locked(std::string_view prefix) const {
    for (const auto& m : messages_) {
      if (m.rfind(prefix, 0) == 0) {
        return true;
      }
    }
    return false;
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> messages_;
};

// A pipeline that is ready at once and runs until stopped, then returns `on_stop`.
PipelineSlot waiting_slot(std::string name, core::Status on_stop = core::Status::ok()) {
  return {std::move(name),
          [on_stop](std::stop_token stop) {
            std::mutex m;
            std::condition_variable_any cv;
            std::unique_lock lock(m);
            cv.wait(lock, stop, [] { return false; });
            return on_stop;
          },
          [] { return true; }};
}

TEST(Supervise, SendsReadyOnceEveryPipelineIsReadyAndExitsZeroOnStop) {
  RecordingNotifier notifier;
  std::stop_source signal;
  std::atomic<bool> publish_ready{false};
  std::vector<PipelineSlot> slots{waiting_slot("subscribe"), waiting_slot("publish")};
  slots[1].ready = [&] { return publish_ready.load(); };

  std::jthread driver([&] {
    // Not READY while one pipeline is still connecting.
    EXPECT_FALSE(notifier.wait_for("READY=1", 100ms));
    publish_ready = true;
    EXPECT_TRUE(notifier.wait_for("READY=1", 5s));
    signal.request_stop();
  });
  const auto result = supervise(slots, notifier, {20s, 5ms}, signal.get_token());
  driver.join();
  EXPECT_EQ(result.exit_code, exit_code::kOk);
  EXPECT_FALSE(result.shutdown_timed_out);
  EXPECT_TRUE(notifier.has("STOPPING=1"));
}

TEST(Supervise, AFatalPipelineStopsTheOthersAndExits70) {
  RecordingNotifier notifier;
  std::atomic<bool> other_stopped{false};
  std::vector<PipelineSlot> slots{
      {"subscribe",
       [](std::stop_token) -> core::Status { return core::fatal_error("checkpoint corrupt"); },
       [] { return false; }},
      {"publish",
       [&](std::stop_token stop) {
         std::mutex m;
         std::condition_variable_any cv;
         std::unique_lock lock(m);
         cv.wait(lock, stop, [] { return false; });
         other_stopped = true;
         return core::Status::ok();
       },
       [] { return true; }}};
  const auto result = supervise(slots, notifier, {20s, 5ms}, std::stop_token{});
  EXPECT_EQ(result.exit_code, exit_code::kSoftware);
  EXPECT_TRUE(other_stopped);
  EXPECT_TRUE(notifier.has("STOPPING=1\nSTATUS=stopping: subscribe failed"));
  EXPECT_FALSE(notifier.has("READY=1"));
}

TEST(Supervise, APipelineThatGaveUpOnADependencyExits69) {
  RecordingNotifier notifier;
  std::vector<PipelineSlot> slots{{"publish",
                                   [](std::stop_token) -> core::Status {
                                     return core::retry_error("login: connection refused");
                                   },
                                   [] { return false; }}};
  EXPECT_EQ(supervise(slots, notifier, {20s, 5ms}, std::stop_token{}).exit_code,
            exit_code::kUnavailable);
}

TEST(Supervise, APipelineFailingItsFinalFlushMakesTheExitNonZero) {
  RecordingNotifier notifier;
  std::stop_source signal;
  std::vector<PipelineSlot> slots{
      waiting_slot("subscribe", core::fatal_error("flush timed out, 3 events not acknowledged"))};
  signal.request_stop();
  EXPECT_EQ(supervise(slots, notifier, {20s, 5ms}, signal.get_token()).exit_code,
            exit_code::kSoftware);
}

TEST(Supervise, ShutdownOverrunningTheTimeoutReturnsWithoutWaiting) {
  RecordingNotifier notifier;
  std::stop_source signal;
  // The pipeline ignores the stop until the test releases it (after supervise returned), the way
  // a hung broker would keep a flush waiting.
  auto release = std::make_shared<std::latch>(1);
  auto done = std::make_shared<std::latch>(1);
  std::vector<PipelineSlot> slots{{"subscribe",
                                   [release, done](std::stop_token) {
                                     release->wait();
                                     done->count_down();
                                     return core::Status::ok();
                                   },
                                   [] { return true; }}};
  signal.request_stop();
  const auto started = std::chrono::steady_clock::now();
  const auto result = supervise(slots, notifier, {50ms, 5ms}, signal.get_token());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_TRUE(result.shutdown_timed_out);
  EXPECT_EQ(result.exit_code, exit_code::kSoftware);
  release->count_down();
  done->wait();  // the detached thread finishes on memory it co-owns
}

TEST(Supervise, AnEscapingExceptionIsAFatalStopNotATerminate) {
  RecordingNotifier notifier;
  std::vector<PipelineSlot> slots{
      {"publish", [](std::stop_token) -> core::Status { throw std::runtime_error("boom"); },
       [] { return false; }}};
  EXPECT_EQ(supervise(slots, notifier, {20s, 5ms}, std::stop_token{}).exit_code,
            exit_code::kSoftware);
}

TEST(ReadinessOf, StoppingMakesEveryPipelineNotReady) {
  std::vector<PipelineSlot> slots{waiting_slot("subscribe")};
  EXPECT_TRUE(readiness_of(slots, false)[0].ready);
  const auto stopping = readiness_of(slots, true);
  EXPECT_FALSE(stopping[0].ready);
  EXPECT_EQ(stopping[0].reason, "shutting down");
}

}  // namespace
}  // namespace sfkb::app
