#include "daemon/checkpoint/watermark.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace sfkb::checkpoint {
namespace {

core::ReplayId cometd(std::int64_t number) {
  return core::ReplayId::cometd(number);
}

TEST(Watermark, StartsAtTheResumePointAndStaysThereUntilAnAck) {
  Watermark mark(cometd(100));
  mark.produced(cometd(105));
  mark.produced(cometd(110));
  EXPECT_EQ(mark.value(), cometd(100));
  EXPECT_EQ(mark.in_flight(), 2u);
}

TEST(Watermark, StaysUnknownWithoutResumePointUntilTheFirstEventIsAcked) {
  Watermark mark;
  mark.produced(cometd(5));
  EXPECT_FALSE(mark.value().has_value());
  EXPECT_TRUE(mark.acknowledged(cometd(5)));
  EXPECT_EQ(mark.value(), cometd(5));
}

TEST(Watermark, ShouldNotPassAnEventThatIsNotAcknowledged) {
  // Given three events on different partitions, when the later two are acked first,
  Watermark mark;
  mark.produced(cometd(10));
  mark.produced(cometd(20));
  mark.produced(cometd(30));
  EXPECT_FALSE(mark.acknowledged(cometd(30)));
  EXPECT_FALSE(mark.acknowledged(cometd(20)));
  // then the watermark waits for the first one, and jumps over all three when it arrives.
  EXPECT_FALSE(mark.value().has_value());
  EXPECT_EQ(mark.in_flight(), 1u);
  EXPECT_TRUE(mark.acknowledged(cometd(10)));
  EXPECT_EQ(mark.value(), cometd(30));
  EXPECT_EQ(mark.in_flight(), 0u);
}

TEST(Watermark, AdvancesOnlyToTheLastContiguousAck) {
  Watermark mark(cometd(1));
  for (int id : {2, 4, 8, 16}) {
    mark.produced(cometd(id));
  }
  mark.acknowledged(cometd(2));
  mark.acknowledged(cometd(8));
  EXPECT_EQ(mark.value(), cometd(2));
  mark.acknowledged(cometd(4));
  EXPECT_EQ(mark.value(), cometd(8));
}

TEST(Watermark, IgnoresReplayIdsThatDoNotIncrease) {
  Watermark mark(cometd(50));
  EXPECT_FALSE(mark.produced(cometd(50)));
  EXPECT_FALSE(mark.produced(cometd(49)));
  EXPECT_TRUE(mark.produced(cometd(51)));
  EXPECT_FALSE(mark.produced(cometd(51)));
  EXPECT_EQ(mark.in_flight(), 1u);
}

TEST(Watermark, IgnoresUnknownAndRepeatedAcks) {
  Watermark mark;
  mark.produced(cometd(7));
  EXPECT_FALSE(mark.acknowledged(cometd(6)));
  EXPECT_TRUE(mark.acknowledged(cometd(7)));
  EXPECT_FALSE(mark.acknowledged(cometd(7)));
  EXPECT_EQ(mark.value(), cometd(7));
}

TEST(Watermark, CancelForgetsAProduceThatLibrdkafkaRefused) {
  Watermark mark(cometd(1));
  mark.produced(cometd(2));
  mark.produced(cometd(3));
  mark.cancel(cometd(3));
  EXPECT_EQ(mark.in_flight(), 1u);
  mark.acknowledged(cometd(2));
  EXPECT_EQ(mark.value(), cometd(2));
  EXPECT_TRUE(mark.produced(cometd(3)));  // may be produced again
}

TEST(DuplicateFilter, DropsEverythingAtOrBelowTheResumePoint) {
  DuplicateFilter filter(cometd(100));
  EXPECT_EQ(filter.admit(cometd(90)), DuplicateFilter::Verdict::kBelowHighWater);
  EXPECT_EQ(filter.admit(cometd(100)), DuplicateFilter::Verdict::kBelowHighWater);
  EXPECT_EQ(filter.admit(cometd(101)), DuplicateFilter::Verdict::kNew);
}

TEST(DuplicateFilter, DropsRedeliveriesAfterAResubscribe) {
  DuplicateFilter filter;
  EXPECT_EQ(filter.admit(cometd(1)), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.admit(cometd(5)), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.admit(cometd(9)), DuplicateFilter::Verdict::kNew);
  // the session resubscribed from an older acknowledged point
  EXPECT_EQ(filter.admit(cometd(5)), DuplicateFilter::Verdict::kBelowHighWater);
  EXPECT_EQ(filter.admit(cometd(9)), DuplicateFilter::Verdict::kBelowHighWater);
  EXPECT_EQ(filter.admit(cometd(12)), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.high_water(), cometd(12));
}

TEST(DuplicateFilter, SkipsWhatKafkaHoldsAboveTheResumePointAndProducesTheGaps) {
  DuplicateFilter filter(cometd(10), {cometd(12), cometd(15)});
  EXPECT_EQ(filter.admit(cometd(11)), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.admit(cometd(12)), DuplicateFilter::Verdict::kInKafka);
  EXPECT_EQ(filter.admit(cometd(14)), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.admit(cometd(15)), DuplicateFilter::Verdict::kInKafka);
  EXPECT_EQ(filter.admit(cometd(16)), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.skip_size(), 0u);
}

TEST(DuplicateFilter, ForgetsSkipEntriesThatCanNoLongerArrive) {
  // Retention trimmed 12 away: once 13 arrived, 12 can never come, so the set shrinks.
  DuplicateFilter filter(cometd(10), {cometd(12), cometd(20)});
  EXPECT_EQ(filter.admit(cometd(13)), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.skip_size(), 1u);
}

TEST(Watermark, FollowsTheOrderOfOpaquePositions) {
  // A source with byte positions: the order is the bytes', not that of numbers or text.
  Watermark mark(core::ReplayId::opaque(std::string("\x00\x7f", 2)));
  EXPECT_TRUE(mark.produced(core::ReplayId::opaque(std::string("\x00\x80", 2))));
  EXPECT_TRUE(mark.produced(core::ReplayId::opaque(std::string("\x01\x00", 2))));
  EXPECT_FALSE(mark.produced(core::ReplayId::opaque(std::string("\x00\xff", 2))));
  EXPECT_FALSE(mark.acknowledged(core::ReplayId::opaque(std::string("\x01\x00", 2))));
  EXPECT_TRUE(mark.acknowledged(core::ReplayId::opaque(std::string("\x00\x80", 2))));
  EXPECT_EQ(mark.value(), core::ReplayId::opaque(std::string("\x01\x00", 2)));
}

TEST(DuplicateFilter, RefusesAPositionOfAnotherKind) {
  // One channel has one source: a mix of kinds is a programming error, never a silent verdict.
  DuplicateFilter filter(cometd(10));
  EXPECT_THROW(filter.admit(core::ReplayId::opaque("\x0b")), std::logic_error);
}

TEST(DuplicateFilter, SkipsEventsWhoseEventUuidKafkaHoldsOncePerEvent) {
  // A replay from earliest over the other API: replay IDs are new, EventUuids are not.
  DuplicateFilter filter(core::ReplayId::cometd(core::ReplayPreset::kEarliest), {}, {"u1", "u2"});
  const auto id = [](char c) { return core::ReplayId::opaque(std::string(1, c)); };
  EXPECT_EQ(filter.admit(id('a'), "u1"), DuplicateFilter::Verdict::kInKafka);
  EXPECT_EQ(filter.admit(id('b'), "u3"), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.admit(id('c'), ""), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.admit(id('d'), "u2"), DuplicateFilter::Verdict::kInKafka);
  EXPECT_EQ(filter.skip_uuid_size(), 0u);
  EXPECT_EQ(filter.admit(id('b'), "u1"), DuplicateFilter::Verdict::kBelowHighWater);
}

}  // namespace
}  // namespace sfkb::checkpoint
