#include "daemon/kafka/partitioner.h"

#include <librdkafka/rdkafka.h>

#include <string>

#include <gtest/gtest.h>

namespace sfkb::kafka {
namespace {

TEST(Murmur2, MatchesKafkaJavaTestVectors) {
  // org.apache.kafka.common.utils.UtilsTest#testMurmur2
  EXPECT_EQ(murmur2("21"), -973932308);
  EXPECT_EQ(murmur2("foobar"), -790332482);
  EXPECT_EQ(murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(murmur2("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  EXPECT_EQ(murmur2("abc"), 479470107);
}

TEST(PartitionForChannel, AgreesWithLibrdkafkasJavaCompatiblePartitioner) {
  for (int count : {1, 2, 3, 4, 7, 12, 100}) {
    for (int i = 0; i < 200; ++i) {
      const std::string channel = "/event/Channel_" + std::to_string(i) + "__e";
      const auto expected = rd_kafka_msg_partitioner_murmur2(
          nullptr, channel.data(), channel.size(), count, nullptr, nullptr);
      ASSERT_EQ(partition_for_channel(channel, count), expected) << channel << " / " << count;
    }
  }
}

TEST(PartitionForChannel, IsStableAndInRange) {
  EXPECT_EQ(partition_for_channel("/event/Flight_Approved__e", 12),
            partition_for_channel("/event/Flight_Approved__e", 12));
  EXPECT_EQ(partition_for_channel("/event/Flight_Approved__e", 1), 0);
  EXPECT_EQ(partition_for_channel("/event/X__e", 0), 0);
  for (int i = 0; i < 1000; ++i) {
    const auto p = partition_for_channel("/event/E" + std::to_string(i) + "__e", 5);
    ASSERT_GE(p, 0);
    ASSERT_LT(p, 5);
  }
}

TEST(PartitionForChannel, SpreadsChannelsOverPartitions) {
  int used[4] = {0, 0, 0, 0};
  for (int i = 0; i < 400; ++i) {
    ++used[partition_for_channel("/event/E" + std::to_string(i) + "__e", 4)];
  }
  for (int n : used) {
    EXPECT_GT(n, 50);
  }
}

}  // namespace
}  // namespace sfkb::kafka
