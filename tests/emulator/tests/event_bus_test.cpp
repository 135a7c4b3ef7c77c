// EventBus in-process: replay semantics and retention without any I/O.

#include "event_bus.h"

#include <gtest/gtest.h>

namespace sfkb::emulator {
namespace {

std::vector<std::string> prefixes(std::size_t n) {
  return std::vector<std::string>(n, R"({"channel":"/event/A__e","data":{"event":{"replayId":)");
}

TEST(EventBusTest, ShouldAssignIncreasingReplayIdsWithGaps) {
  EventBus bus(100, 1);
  auto [first, last] = bus.append("/event/A__e", prefixes(10));
  EXPECT_GE(first, 1);
  EXPECT_GE(last - first, 9);
  EXPECT_LE(last - first, 45);
  std::int64_t cursor = 0;
  std::size_t budget = 1 << 20;
  std::vector<StoredEvent> out;
  EXPECT_EQ(bus.collect("/event/A__e", cursor, 100, budget, out), 10u);
  for (std::size_t i = 1; i < out.size(); ++i) {
    EXPECT_GT(out[i].replay_id, out[i - 1].replay_id);
  }
  EXPECT_EQ(*out[0].json, R"({"channel":"/event/A__e","data":{"event":{"replayId":)" +
                              std::to_string(first) + "}}}");
  EXPECT_EQ(cursor, last);
}

TEST(EventBusTest, ReplayValuesFollowSalesforce) {
  EventBus bus(3, 7);
  auto [first, last] = bus.append("/event/A__e", prefixes(5));  // two dropped
  EXPECT_EQ(bus.cursor_for("/event/A__e", -1), last);
  auto all = bus.cursor_for("/event/A__e", -2);
  ASSERT_TRUE(all);
  std::int64_t cursor = *all;
  std::size_t budget = 1 << 20;
  std::vector<StoredEvent> out;
  EXPECT_EQ(bus.collect("/event/A__e", cursor, 100, budget, out), 3u);
  EXPECT_FALSE(bus.cursor_for("/event/A__e", first));     // events after it were dropped
  EXPECT_FALSE(bus.cursor_for("/event/A__e", last + 1));  // never assigned
  EXPECT_FALSE(bus.cursor_for("/event/A__e", -3));
  EXPECT_TRUE(bus.cursor_for("/event/A__e", *all));  // the newest dropped id: nothing lost
  EXPECT_TRUE(bus.cursor_for("/event/A__e", last));
  EXPECT_EQ(bus.cursor_for("/event/Empty__e", -1), 0);
}

TEST(EventBusTest, CollectRespectsEventAndByteCaps) {
  EventBus bus(100, 3);
  bus.append("/event/A__e", prefixes(10));
  std::int64_t cursor = 0;
  std::size_t budget = 1 << 20;
  std::vector<StoredEvent> out;
  EXPECT_EQ(bus.collect("/event/A__e", cursor, 4, budget, out), 4u);
  budget = 1;  // at least one event even when it exceeds the budget
  EXPECT_EQ(bus.collect("/event/A__e", cursor, 100, budget, out), 1u);
  EXPECT_TRUE(bus.has_events_after("/event/A__e", cursor));
}

TEST(EventBusTest, ShrinkingRetentionDropsOldestAtOnce) {
  EventBus bus(100, 5);
  bus.append("/event/A__e", prefixes(10));
  bus.set_retention(2);
  auto stats = bus.stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].retained, 2u);
  EXPECT_GT(stats[0].last_dropped_replay_id, 0);
}

}  // namespace
}  // namespace sfkb::emulator
