#include "daemon/pubsub/subscription.h"

#include <gtest/gtest.h>

#include <random>

namespace sfkb::pubsub {
namespace {

using core::ReplayId;
using core::ReplayPreset;

TEST(FlowWindow, ShouldAskForAtMostOneRequestAndNeverPastTheWindow) {
  FlowWindow flow(250);
  EXPECT_EQ(flow.grant(), kMaxNumRequested);
  EXPECT_EQ(flow.grant(), kMaxNumRequested);
  EXPECT_EQ(flow.grant(), 50);  // the rest of the window
  EXPECT_EQ(flow.grant(), 0);
  EXPECT_EQ(flow.requested(), 250u);
}

TEST(FlowWindow, ShouldStopAskingWhileThePipelineTakesNothing) {
  // Kafka is slow: the pipeline stops calling next_batch, nothing is taken, and the stream must
  // not ask for more than the window however much the server delivers.
  FlowWindow flow(150);
  EXPECT_EQ(flow.grant(), 100);
  EXPECT_EQ(flow.grant(), 50);
  EXPECT_EQ(flow.received(150), 0u);
  EXPECT_EQ(flow.queued(), 150u);
  EXPECT_EQ(flow.grant(), 0);
  flow.taken(20);  // less than half a request free: no message for 20 events
  EXPECT_EQ(flow.grant(), 0);
  flow.taken(40);
  EXPECT_EQ(flow.grant(), 60);
  EXPECT_EQ(flow.requested() + flow.queued(), 150u);
}

TEST(FlowWindow, ShouldServeAWindowSmallerThanARequest) {
  FlowWindow flow(1);
  EXPECT_EQ(flow.grant(), 1);
  EXPECT_EQ(flow.grant(), 0);
  flow.received(1);
  EXPECT_EQ(flow.grant(), 0);
  flow.taken(1);
  EXPECT_EQ(flow.grant(), 1);
}

TEST(FlowWindow, ShouldCountEventsTheServerSentUnaskedAndResetWithTheStream) {
  FlowWindow flow(100);
  EXPECT_EQ(flow.grant(), 100);
  EXPECT_EQ(flow.received(130), 30u);  // a server that ignores num_requested
  EXPECT_EQ(flow.requested(), 0u);
  EXPECT_EQ(flow.queued(), 130u);
  EXPECT_EQ(flow.grant(), 0);
  flow.reset(130);  // the stream ended and its queued events were dropped
  EXPECT_EQ(flow.queued(), 0u);
  EXPECT_EQ(flow.grant(), 100);
}

// A random walk of grants, deliveries (never more than requested), takes and resets: the window
// is never exceeded and accounting never goes negative.
TEST(FlowWindow, ShouldHoldTheBoundUnderRandomTraffic) {
  const auto seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  const std::size_t window = 1 + random() % 500;
  FlowWindow flow(window);
  std::size_t requested = 0;
  std::size_t queued = 0;
  for (int step = 0; step < 10000; ++step) {
    switch (random() % 4) {
      case 0:
        requested += static_cast<std::size_t>(flow.grant());
        break;
      case 1: {
        const std::size_t n = requested == 0 ? 0 : random() % (requested + 1);
        flow.received(n);
        requested -= n;
        queued += n;
        break;
      }
      case 2: {
        const std::size_t n = queued == 0 ? 0 : random() % (queued + 1);
        flow.taken(n);
        queued -= n;
        break;
      }
      default:
        if (random() % 50 == 0) {
          flow.reset(queued);
          requested = 0;
          queued = 0;
        }
    }
    ASSERT_EQ(flow.requested(), requested);
    ASSERT_EQ(flow.queued(), queued);
    ASSERT_LE(requested + queued, window);
  }
}

TEST(FlowWindow, ShouldSplitTheInFlightBoundOverChannels) {
  EXPECT_EQ(channel_window(10000, 4), 2500u);
  EXPECT_EQ(channel_window(3, 4), 1u);
  EXPECT_EQ(channel_window(10, 0), 10u);
}

salesforce::ChannelSubscription channel(ReplayId start) {
  return {"/event/Order__e", start, config::InvalidReplayPolicy::kEarliest};
}

TEST(ChooseStart, ShouldPreferTheFallbackThenTheAcknowledgedPositionThenTheConfiguredStart) {
  const auto latest = channel(ReplayId::cometd(ReplayPreset::kLatest));
  auto first = choose_start(latest, std::nullopt, std::nullopt, false);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->preset, Start::Preset::kLatest);
  EXPECT_EQ(first->source, "configured start");

  const auto acked = ReplayId::opaque(std::string("\x00\x00\x00\x07", 4));
  auto resumed = choose_start(latest, std::nullopt, acked, true);
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->preset, Start::Preset::kCustom);
  EXPECT_EQ(resumed->replay_id, acked.bytes());
  EXPECT_EQ(resumed->as_position(), acked);

  auto fallback = choose_start(latest, ReplayId::cometd(ReplayPreset::kEarliest), acked, true);
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->preset, Start::Preset::kEarliest);
  EXPECT_EQ(fallback->source, "invalid-replay fallback");
}

TEST(ChooseStart, ShouldNotUseLatestTwiceWithNothingAcknowledged) {
  const auto latest = channel(ReplayId::cometd(ReplayPreset::kLatest));
  auto again = choose_start(latest, std::nullopt, std::nullopt, true);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->preset, Start::Preset::kEarliest);
  // ... unless the fallback itself is latest (on_invalid_replay_id: latest).
  auto fallback = choose_start(latest, ReplayId::cometd(ReplayPreset::kLatest), std::nullopt, true);
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->preset, Start::Preset::kLatest);
}

TEST(ChooseStart, ShouldRefuseACometdReplayIdAsAPosition) {
  // The checkpoint of a channel moved from api: cometd holds a CometD number.
  const auto earliest = channel(ReplayId::cometd(ReplayPreset::kEarliest));
  EXPECT_FALSE(choose_start(earliest, std::nullopt, ReplayId::cometd(41), true));
}

TEST(Classify, ShouldTellAuthInvalidReplayAndTransientErrorsApart) {
  constexpr int kUnauthenticated = 16;
  constexpr int kInvalidArgument = 3;
  constexpr int kUnavailable = 14;
  constexpr int kInternal = 13;
  EXPECT_EQ(classify(kUnauthenticated, "", "", false), Reaction::kReauth);
  EXPECT_EQ(classify(kInternal, "sfdc.platform.eventbus.grpc.service.auth.error", "", true),
            Reaction::kReauth);
  EXPECT_EQ(classify(kInternal, "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted",
                     "", true),
            Reaction::kInvalidReplay);
  EXPECT_EQ(classify(kInvalidArgument, "", "The Replay ID validation failed", true),
            Reaction::kInvalidReplay);
  // A preset start has no replay ID to refuse.
  EXPECT_EQ(classify(kInvalidArgument, "", "The Replay ID validation failed", false),
            Reaction::kRetry);
  EXPECT_EQ(classify(kUnavailable, "", "connection reset", true), Reaction::kRetry);
  EXPECT_EQ(classify(8, "sfdc.platform.eventbus.grpc.subscription.limit.exceeded", "", true),
            Reaction::kDailyLimit);
  EXPECT_STREQ(restart_reason(Reaction::kRetry, kUnavailable), "unavailable");
  EXPECT_STREQ(restart_reason(Reaction::kInvalidReplay, kInvalidArgument), "invalid_replay");
}

}  // namespace
}  // namespace sfkb::pubsub
