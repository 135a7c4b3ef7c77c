#include "daemon/kafka/partitioner.h"

namespace sfkb::kafka {

std::int32_t murmur2(std::string_view data) {
  // Unsigned arithmetic: Java's int overflow wraps; C++ signed overflow would be undefined.
  const auto length = static_cast<std::uint32_t>(data.size());
  const std::uint32_t m = 0x5bd1e995;
  const int r = 24;
  std::uint32_t h = 0x9747b28cU ^ length;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const std::uint32_t length4 = length / 4;
  for (std::uint32_t i = 0; i < length4; ++i) {
    const std::uint32_t i4 = i * 4;
    std::uint32_t k = static_cast<std::uint32_t>(bytes[i4]) |
                      (static_cast<std::uint32_t>(bytes[i4 + 1]) << 8) |
                      (static_cast<std::uint32_t>(bytes[i4 + 2]) << 16) |
                      (static_cast<std::uint32_t>(bytes[i4 + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const std::uint32_t tail = length & ~3U;
  switch (length % 4) {
    case 3:
      h ^= static_cast<std::uint32_t>(bytes[tail + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<std::uint32_t>(bytes[tail + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<std::uint32_t>(bytes[tail]);
      h *= m;
      break;
    default:
      break;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<std::int32_t>(h);
}

std::int32_t partition_for_channel(std::string_view channel, std::int32_t partition_count) {
  if (partition_count <= 0) {
    return 0;
  }
  const auto positive = static_cast<std::uint32_t>(murmur2(channel)) & 0x7fffffffU;
  return static_cast<std::int32_t>(positive % static_cast<std::uint32_t>(partition_count));
}

}  // namespace sfkb::kafka
