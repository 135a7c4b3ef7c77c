#include "daemon/kafka/consumer.h"

#include <gtest/gtest.h>

namespace sfkb::kafka {
namespace {

// librdkafka#4312: only a subscribed consumer without any assignment, on a version before 2.3.0.
TEST(DestroyWouldAbort, OnlyBeforeTheFirstAssignmentOnAnAffectedVersion) {
  constexpr int k202 = 0x020002ff;  // Debian bookworm's 2.0.2
  constexpr int k230 = 0x020300ff;
  EXPECT_TRUE(destroy_would_abort(k202, true, false));
  EXPECT_FALSE(destroy_would_abort(k202, true, true));
  EXPECT_FALSE(destroy_would_abort(k202, false, false));  // assign()-only readers never join
  EXPECT_FALSE(destroy_would_abort(k230, true, false));
}

}  // namespace
}  // namespace sfkb::kafka
