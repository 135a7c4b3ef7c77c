// The channel <-> partition rule every instance must agree on (ownership/channel_partitions.h).

#include "daemon/ownership/channel_partitions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sfkb::ownership {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

config::Config config_with(const std::vector<std::string>& channels) {
  config::Config config;
  for (const auto& channel : channels) {
    config::SubscribeMapping mapping;
    mapping.channel = channel;
    mapping.topic = "t" + channel.substr(channel.size() - 4, 1);
    config.subscribe.push_back(mapping);
  }
  return config;
}

TEST(ChannelPartitions, ShouldNumberTheChannelsByNameWhateverTheirOrderInTheFile) {
  const auto one = config_with({"/event/C__e", "/data/AccountChangeEvent", "/event/A__e"});
  const auto other = config_with({"/event/A__e", "/event/C__e", "/data/AccountChangeEvent"});
  EXPECT_THAT(channels_in_partition_order(one),
              ElementsAre("/data/AccountChangeEvent", "/event/A__e", "/event/C__e"));
  EXPECT_EQ(channels_in_partition_order(one), channels_in_partition_order(other));
}

TEST(ChannelPartitions, ShouldMapAssignedPartitionsToChannelsIgnoringExtraPartitions) {
  const std::vector<std::string> ordered = {"/event/A__e", "/event/B__e", "/event/C__e"};
  EXPECT_THAT(channels_of(ordered, {2, 0}), ElementsAre("/event/A__e", "/event/C__e"));
  EXPECT_THAT(channels_of(ordered, {3, 7}), ElementsAre());
  EXPECT_THAT(channels_of(ordered, {}), ElementsAre());
}

TEST(ChannelPartitions, ShouldRefuseATopicWithFewerPartitionsThanChannels) {
  EXPECT_EQ(partition_count_problem("p.channels", 3, 3), "");
  EXPECT_EQ(partition_count_problem("p.channels", 8, 3), "");
  const auto problem = partition_count_problem("p.channels", 2, 3);
  EXPECT_THAT(problem, HasSubstr("coordination topic p.channels has 2 partition(s) for 3"));
  EXPECT_THAT(problem, HasSubstr("--partitions 3"));
}

TEST(ChannelPartitions, ShouldRestrictTheConfigToTheOwnedChannelsInFileOrder) {
  const auto config = config_with({"/event/C__e", "/event/A__e", "/event/B__e"});
  const auto owned = restricted_to(config, {"/event/A__e", "/event/C__e"});
  ASSERT_EQ(owned.subscribe.size(), 2u);
  EXPECT_EQ(owned.subscribe[0].channel, "/event/C__e");
  EXPECT_EQ(owned.subscribe[1].channel, "/event/A__e");
  EXPECT_TRUE(restricted_to(config, {}).subscribe.empty());
}

}  // namespace
}  // namespace sfkb::ownership
