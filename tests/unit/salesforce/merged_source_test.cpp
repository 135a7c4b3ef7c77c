#include "daemon/salesforce/merged_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace sfkb::salesforce {
namespace {

using namespace std::chrono_literals;

// Hands out the batches it was given, one per call, then returns empty batches (or `fatal`).
class ScriptedSource final : public EventSource {
 public:
  ScriptedSource(std::string channel, int batches, int per_batch) {
    for (int b = 0; b < batches; ++b) {
      std::vector<StreamEvent> batch;
      for (int e = 0; e < per_batch; ++e) {
        StreamEvent event;
        event.channel = channel;
        event.replay_id = core::ReplayId::cometd(b * per_batch + e + 1);
        batch.push_back(event);
      }
      batches_.push_back(std::move(batch));
    }
  }
  core::Status next_batch(std::stop_token stop, std::vector<StreamEvent>& out) override {
    ++calls;
    if (stop.stop_requested()) {
      return core::Error{core::ErrorKind::kStopped, "stopped"};
    }
    std::lock_guard lock(mutex_);
    if (batches_.empty()) {
      if (fatal) {
        return core::fatal_error("scripted failure");
      }
      // A real source waits for events (a long poll); pacing, not synchronisation.
      std::this_thread::sleep_for(1ms);
      return core::Status::ok();
    }
    out = std::move(batches_.front());
    batches_.pop_front();
    return core::Status::ok();
  }
  bool connected() const override { return true; }
  void disconnect() override { disconnected = true; }

  std::atomic<int> calls{0};
  std::atomic<bool> disconnected{false};
  bool fatal = false;

 private:
  std::mutex mutex_;
  std::deque<std::vector<StreamEvent>> batches_;
};

TEST(MergedSource, DeliversEveryInnerSourcesEventsInOrderPerChannel) {
  auto a = std::make_unique<ScriptedSource>("/event/A__e", 20, 50);
  auto b = std::make_unique<ScriptedSource>("/data/AccountChangeEvent", 30, 10);
  auto* a_raw = a.get();
  std::vector<std::unique_ptr<EventSource>> sources;
  sources.push_back(std::move(a));
  sources.push_back(std::move(b));
  MergedSource merged(std::move(sources));
  std::map<std::string, std::vector<std::int64_t>> seen;
  std::size_t total = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (total < 1300 && std::chrono::steady_clock::now() < deadline) {
    std::vector<StreamEvent> batch;
    ASSERT_TRUE(merged.next_batch({}, batch));
    for (const auto& event : batch) {
      seen[event.channel].push_back(event.replay_id.number());
    }
    total += batch.size();
  }
  ASSERT_EQ(seen["/event/A__e"].size(), 1000u);
  ASSERT_EQ(seen["/data/AccountChangeEvent"].size(), 300u);
  for (const auto& [channel, ids] : seen) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ASSERT_EQ(ids[i], static_cast<std::int64_t>(i + 1)) << channel;
    }
  }
  merged.disconnect();
  EXPECT_TRUE(a_raw->disconnected);
}

TEST(MergedSource, HoldsAtMostOneBatchPerSourceUntilThePipelineTakesIt) {
  auto a = std::make_unique<ScriptedSource>("/event/A__e", 100, 1);
  auto* a_raw = a.get();
  std::vector<std::unique_ptr<EventSource>> sources;
  sources.push_back(std::move(a));
  MergedSource merged(std::move(sources));
  std::vector<StreamEvent> batch;
  ASSERT_TRUE(merged.next_batch({}, batch));
  // The pipeline does not call again (Kafka is slow): the source is asked for at most one more
  // batch, which waits unsent.
  const auto calls = a_raw->calls.load();
  std::this_thread::sleep_for(200ms);  // nothing to wait for: the absence of calls is the point
  EXPECT_LE(a_raw->calls.load(), calls + 1);
  merged.disconnect();
}

TEST(MergedSource, AnInnerFatalErrorEndsTheMergedSource) {
  auto a = std::make_unique<ScriptedSource>("/event/A__e", 1, 3);
  a->fatal = true;
  std::vector<std::unique_ptr<EventSource>> sources;
  sources.push_back(std::move(a));
  MergedSource merged(std::move(sources));
  std::size_t events = 0;
  core::Status status;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (status && std::chrono::steady_clock::now() < deadline) {
    std::vector<StreamEvent> batch;
    status = merged.next_batch({}, batch);
    events += batch.size();
  }
  EXPECT_EQ(events, 3u);  // delivered before the error
  ASSERT_FALSE(status);
  EXPECT_EQ(status.kind(), core::ErrorKind::kFatal);
}

}  // namespace
}  // namespace sfkb::salesforce
