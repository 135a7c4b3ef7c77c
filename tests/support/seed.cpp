#include "tests/support/seed.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>

namespace sfkb::test_support {
namespace {

std::uint32_t choose_seed() {
  const char* text = std::getenv(kSeedVariable);
  if (text == nullptr || *text == '\0') {
    std::uint32_t seed = 0;
    while (seed == 0) {
      seed = std::random_device{}();
    }
    return seed;
  }
  const auto seed = parse_seed(text);
  if (!seed) {
    throw std::invalid_argument(std::string(kSeedVariable) + "=" + text +
                                ": expected a decimal number from 1 to 4294967295");
  }
  return *seed;
}

}  // namespace

std::optional<std::uint32_t> parse_seed(std::string_view text) {
  std::uint32_t seed = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || seed == 0) {
    return std::nullopt;
  }
  return seed;
}

std::uint32_t test_seed() {
  static const std::uint32_t seed = [] {
    const std::uint32_t chosen = choose_seed();
    std::fprintf(stderr, "[ seed ] %s=%u%s\n", kSeedVariable, chosen,
                 std::getenv(kSeedVariable) != nullptr ? " (from the environment)" : "");
    std::fflush(stderr);
    return chosen;
  }();
  return seed;
}

std::uint32_t derived_seed(std::uint32_t index) {
  if (index == 0) {
    return test_seed();
  }
  // splitmix64 of (seed, index): neighbouring indexes give unrelated streams.
  std::uint64_t z = (static_cast<std::uint64_t>(test_seed()) << 32 | index) + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  const auto derived = static_cast<std::uint32_t>(z);
  return derived == 0 ? 1 : derived;
}

std::string seed_note() {
  const auto seed = std::to_string(test_seed());
  return "seed=" + seed + " (replay: " + kSeedVariable + "=" + seed + ")";
}

}  // namespace sfkb::test_support
