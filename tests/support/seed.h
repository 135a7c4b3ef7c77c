#pragma once
// The seed of a test's randomness, so that a failure can be replayed. Every test that draws random
// numbers, and every emulator a test starts (its replay-ID gaps and IDs), takes its seed from here:
//
//   SCOPED_TRACE(sfkb::test_support::seed_note());  // each failure message names the seed
//   std::mt19937 random(sfkb::test_support::test_seed());
//
// The seed is $SFKB_TEST_SEED when set, else drawn once per process; the first use prints it to
// stderr (ctest --output-on-failure shows it). To replay a failure:
//
//   SFKB_TEST_SEED=<seed> ctest --test-dir build -R '<the test>' --output-on-failure
//
// (docs/CONVENTIONS.md "Tests"). Timing still varies between runs: a replay repeats the random
// choices, not the scheduling.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sfkb::test_support {

inline constexpr const char* kSeedVariable = "SFKB_TEST_SEED";

// A seed as $SFKB_TEST_SEED spells it: a decimal number from 1 to 4294967295 (nullopt otherwise).
std::optional<std::uint32_t> parse_seed(std::string_view text);

// $SFKB_TEST_SEED (a decimal number from 1 to 4294967295), or a random one drawn on the first call;
// the same value for the whole process. Throws std::invalid_argument when the variable is set but
// is not such a number.
std::uint32_t test_seed();

// A seed of its own for the `index`-th user of randomness in one test (e.g. the second emulator
// it starts), derived from test_seed(): different users get different streams, and a replay gives
// each the same one again. Never 0 (0 means "pick a random seed" to sf-emulator).
std::uint32_t derived_seed(std::uint32_t index);

// "seed=N (replay: SFKB_TEST_SEED=N)", for SCOPED_TRACE and failure messages.
std::string seed_note();

}  // namespace sfkb::test_support
