#include "tests/support/seed.h"

#include <cstdlib>
#include <set>

#include <gtest/gtest.h>

namespace sfkb::test_support {
namespace {

TEST(Seed, ParsesWhatSfkbTestSeedMaySpell) {
  EXPECT_EQ(parse_seed("1"), 1u);
  EXPECT_EQ(parse_seed("4242"), 4242u);
  EXPECT_EQ(parse_seed("4294967295"), 4294967295u);
}

TEST(Seed, RejectsZeroNegativeOverflowAndText) {
  // 0 would make sf-emulator pick a random seed of its own: no replay.
  for (const char* bad : {"", "0", "-1", "4294967296", "12ab", " 7", "7 ", "0x10", "seed"}) {
    EXPECT_FALSE(parse_seed(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(Seed, IsStableWithinAProcessAndNamedInTheNote) {
  const auto seed = test_seed();
  EXPECT_NE(seed, 0u);
  EXPECT_EQ(test_seed(), seed);
  const auto text = std::to_string(seed);
  EXPECT_EQ(seed_note(), "seed=" + text + " (replay: SFKB_TEST_SEED=" + text + ")");
  // Run with SFKB_TEST_SEED set, the seed is that value.
  if (const char* env = std::getenv(kSeedVariable); env != nullptr) {
    EXPECT_EQ(parse_seed(env), seed);
  }
}

TEST(Seed, DerivedSeedsAreStableDistinctAndNeverZero) {
  EXPECT_EQ(derived_seed(0), test_seed());
  std::set<std::uint32_t> seen;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    const auto derived = derived_seed(i);
    EXPECT_NE(derived, 0u) << i;
    EXPECT_EQ(derived_seed(i), derived) << i;
    seen.insert(derived);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace sfkb::test_support
