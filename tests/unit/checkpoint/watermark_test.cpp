#include "daemon/checkpoint/watermark.h"

#include <gtest/gtest.h>

namespace sfkb::checkpoint {
namespace {

TEST(Watermark, StartsAtTheResumePointAndStaysThereUntilAnAck) {
  Watermark mark(100);
  mark.produced(105);
  mark.produced(110);
  EXPECT_EQ(mark.value(), 100);
  EXPECT_EQ(mark.in_flight(), 2u);
}

TEST(Watermark, StaysUnknownWithoutResumePointUntilTheFirstEventIsAcked) {
  Watermark mark;
  mark.produced(5);
  EXPECT_FALSE(mark.value().has_value());
  EXPECT_TRUE(mark.acknowledged(5));
  EXPECT_EQ(mark.value(), 5);
}

TEST(Watermark, ShouldNotPassAnEventThatIsNotAcknowledged) {
  // Given three events on different partitions, when the later two are acked first,
  Watermark mark;
  mark.produced(10);
  mark.produced(20);
  mark.produced(30);
  EXPECT_FALSE(mark.acknowledged(30));
  EXPECT_FALSE(mark.acknowledged(20));
  // then the watermark waits for the first one, and jumps over all three when it arrives.
  EXPECT_FALSE(mark.value().has_value());
  EXPECT_EQ(mark.in_flight(), 1u);
  EXPECT_TRUE(mark.acknowledged(10));
  EXPECT_EQ(mark.value(), 30);
  EXPECT_EQ(mark.in_flight(), 0u);
}

TEST(Watermark, AdvancesOnlyToTheLastContiguousAck) {
  Watermark mark(1);
  for (int id : {2, 4, 8, 16}) {
    mark.produced(id);
  }
  mark.acknowledged(2);
  mark.acknowledged(8);
  EXPECT_EQ(mark.value(), 2);
  mark.acknowledged(4);
  EXPECT_EQ(mark.value(), 8);
}

TEST(Watermark, IgnoresReplayIdsThatDoNotIncrease) {
  Watermark mark(50);
  EXPECT_FALSE(mark.produced(50));
  EXPECT_FALSE(mark.produced(49));
  EXPECT_TRUE(mark.produced(51));
  EXPECT_FALSE(mark.produced(51));
  EXPECT_EQ(mark.in_flight(), 1u);
}

TEST(Watermark, IgnoresUnknownAndRepeatedAcks) {
  Watermark mark;
  mark.produced(7);
  EXPECT_FALSE(mark.acknowledged(6));
  EXPECT_TRUE(mark.acknowledged(7));
  EXPECT_FALSE(mark.acknowledged(7));
  EXPECT_EQ(mark.value(), 7);
}

TEST(Watermark, CancelForgetsAProduceThatLibrdkafkaRefused) {
  Watermark mark(1);
  mark.produced(2);
  mark.produced(3);
  mark.cancel(3);
  EXPECT_EQ(mark.in_flight(), 1u);
  mark.acknowledged(2);
  EXPECT_EQ(mark.value(), 2);
  EXPECT_TRUE(mark.produced(3));  // may be produced again
}

TEST(DuplicateFilter, DropsEverythingAtOrBelowTheResumePoint) {
  DuplicateFilter filter(100);
  EXPECT_EQ(filter.admit(90), DuplicateFilter::Verdict::kBelowHighWater);
  EXPECT_EQ(filter.admit(100), DuplicateFilter::Verdict::kBelowHighWater);
  EXPECT_EQ(filter.admit(101), DuplicateFilter::Verdict::kNew);
}

TEST(DuplicateFilter, DropsRedeliveriesAfterAResubscribe) {
  DuplicateFilter filter;
  EXPECT_EQ(filter.admit(1), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.admit(5), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.admit(9), DuplicateFilter::Verdict::kNew);
  // the session resubscribed from an older acknowledged point
  EXPECT_EQ(filter.admit(5), DuplicateFilter::Verdict::kBelowHighWater);
  EXPECT_EQ(filter.admit(9), DuplicateFilter::Verdict::kBelowHighWater);
  EXPECT_EQ(filter.admit(12), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.high_water(), 12);
}

TEST(DuplicateFilter, SkipsWhatKafkaHoldsAboveTheResumePointAndProducesTheGaps) {
  DuplicateFilter filter(10, {12, 15});
  EXPECT_EQ(filter.admit(11), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.admit(12), DuplicateFilter::Verdict::kInKafka);
  EXPECT_EQ(filter.admit(14), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.admit(15), DuplicateFilter::Verdict::kInKafka);
  EXPECT_EQ(filter.admit(16), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.skip_size(), 0u);
}

TEST(DuplicateFilter, ForgetsSkipEntriesThatCanNoLongerArrive) {
  // Retention trimmed 12 away: once 13 arrived, 12 can never come, so the set shrinks.
  DuplicateFilter filter(10, {12, 20});
  EXPECT_EQ(filter.admit(13), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(filter.skip_size(), 1u);
}

}  // namespace
}  // namespace sfkb::checkpoint
