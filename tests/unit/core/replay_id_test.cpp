#include "daemon/core/replay_id.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

namespace sfkb::core {
namespace {

TEST(ReplayIdTest, CometdOrderIsNumeric) {
  EXPECT_LT(ReplayId::cometd(9), ReplayId::cometd(10));  // not the order of the text "9" > "10"
  EXPECT_LT(ReplayId::cometd(-2), ReplayId::cometd(-1));
  EXPECT_LT(ReplayId::cometd(-1), ReplayId::cometd(0));
  EXPECT_GT(ReplayId::cometd(std::numeric_limits<std::int64_t>::max()), ReplayId::cometd(1));
  EXPECT_EQ(ReplayId::cometd(7), ReplayId::cometd(7));
  EXPECT_NE(ReplayId::cometd(7), ReplayId::cometd(8));
  EXPECT_EQ(ReplayId(), ReplayId::cometd(0));
  const std::set<ReplayId> ids{ReplayId::cometd(30), ReplayId::cometd(4), ReplayId::cometd(100)};
  EXPECT_EQ(*ids.begin(), ReplayId::cometd(4));
  EXPECT_EQ(*ids.rbegin(), ReplayId::cometd(100));
}

TEST(ReplayIdTest, OpaqueOrderIsUnsignedBytes) {
  // 0x80 sorts after 0x7f: bytes compare unsigned, whatever the signedness of char.
  EXPECT_LT(ReplayId::opaque(std::string("\x7f", 1)), ReplayId::opaque(std::string("\x80", 1)));
  EXPECT_LT(ReplayId::opaque(std::string("\x00\x01", 2)),
            ReplayId::opaque(std::string("\x00\x02", 2)));
  EXPECT_LT(ReplayId::opaque("ab"), ReplayId::opaque("abc"));
  EXPECT_EQ(ReplayId::opaque("abc"), ReplayId::opaque("abc"));
  // Fixed-width big-endian numbers keep their numeric order.
  auto big_endian = [](std::uint64_t n) {
    std::string out(8, '\0');
    for (int i = 7; i >= 0; --i, n >>= 8) {
      out[static_cast<std::size_t>(i)] = static_cast<char>(n & 0xff);
    }
    return ReplayId::opaque(out);
  };
  EXPECT_LT(big_endian(255), big_endian(256));
  EXPECT_LT(big_endian(0x00ff00ff), big_endian(0xff000000));
}

TEST(ReplayIdTest, OrderingDifferentKindsIsAnError) {
  const ReplayId number = ReplayId::cometd(5);
  const ReplayId bytes = ReplayId::opaque("5");
  EXPECT_THROW((void)(number < bytes), std::logic_error);
  EXPECT_THROW((void)(bytes <= number), std::logic_error);
  EXPECT_THROW((void)(number <=> bytes), std::logic_error);
  // Equality is well defined: different kinds are different positions.
  EXPECT_NE(number, bytes);
  EXPECT_THROW((void)number.bytes(), std::logic_error);
  EXPECT_THROW((void)bytes.number(), std::logic_error);
}

TEST(ReplayIdTest, PresetsSortBelowOpaquePositionsToo) {
  // A restarted Pub/Sub channel's watermark and duplicate filter start at its fallback preset.
  const ReplayId earliest = ReplayId::cometd(ReplayPreset::kEarliest);
  const ReplayId latest = ReplayId::cometd(ReplayPreset::kLatest);
  const ReplayId lowest = ReplayId::opaque(std::string(1, '\0'));
  EXPECT_LT(earliest, lowest);
  EXPECT_LT(latest, lowest);
  EXPECT_GT(lowest, earliest);
  EXPECT_NE(latest, lowest);
  EXPECT_THROW((void)(ReplayId::cometd(0) < lowest), std::logic_error);
}

TEST(ReplayIdTest, PresetsAreCometdNumbers) {
  EXPECT_EQ(ReplayId::cometd(ReplayPreset::kLatest), ReplayId::cometd(-1));
  EXPECT_EQ(ReplayId::cometd(ReplayPreset::kEarliest), ReplayId::cometd(-2));
  EXPECT_EQ(ReplayId::cometd(-1).preset(), ReplayPreset::kLatest);
  EXPECT_EQ(ReplayId::cometd(-2).preset(), ReplayPreset::kEarliest);
  EXPECT_EQ(ReplayId::cometd(-3).preset(), std::nullopt);
  EXPECT_EQ(ReplayId::cometd(0).preset(), std::nullopt);
  EXPECT_EQ(ReplayId::opaque(std::string("\xff", 1)).preset(), std::nullopt);
  EXPECT_FALSE(ReplayId::cometd(-1).names_event());
  EXPECT_FALSE(ReplayId::cometd(-2).names_event());
  EXPECT_TRUE(ReplayId::cometd(0).names_event());
  EXPECT_TRUE(ReplayId::cometd(42).names_event());
  EXPECT_TRUE(ReplayId::opaque("").names_event());
  // Every event Salesforce numbers sorts after both presets.
  EXPECT_LT(ReplayId::cometd(ReplayPreset::kLatest), ReplayId::cometd(0));
  EXPECT_STREQ(describe(ReplayPreset::kLatest), "new events only");
  EXPECT_STREQ(describe(ReplayPreset::kEarliest), "every retained event");
}

TEST(ReplayIdTest, CometdTextIsTheDecimalNumber) {
  // The sf.replay_id header, record keys and logs carry exactly these bytes.
  for (std::int64_t n :
       {std::int64_t{0}, std::int64_t{-2}, std::int64_t{42}, std::int64_t{9007199254740993},
        std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
    const ReplayId id = ReplayId::cometd(n);
    EXPECT_EQ(id.text(), std::to_string(n));
    auto back = ReplayId::parse(ReplayId::Kind::kCometd, id.text());
    ASSERT_TRUE(back.is_ok()) << back.error().message;
    EXPECT_EQ(*back, id);
  }
  std::ostringstream out;
  out << ReplayId::cometd(17);
  EXPECT_EQ(out.str(), "17");
}

TEST(ReplayIdTest, OpaqueTextIsPaddedBase64) {
  EXPECT_EQ(ReplayId::opaque("").text(), "");
  EXPECT_EQ(ReplayId::opaque("f").text(), "Zg==");
  EXPECT_EQ(ReplayId::opaque("fo").text(), "Zm8=");
  EXPECT_EQ(ReplayId::opaque("foo").text(), "Zm9v");
  EXPECT_EQ(ReplayId::opaque("foobar").text(), "Zm9vYmFy");
  EXPECT_EQ(ReplayId::opaque(std::string("\x00\xfb\xff", 3)).text(), "APv/");
}

TEST(ReplayIdTest, OpaqueTextRoundTrips) {
  const auto seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  for (int i = 0; i < 500; ++i) {
    std::string bytes(random() % 40, '\0');
    for (auto& c : bytes) {
      c = static_cast<char>(random() & 0xff);
    }
    const ReplayId id = ReplayId::opaque(bytes);
    auto back = ReplayId::parse(ReplayId::Kind::kOpaque, id.text());
    ASSERT_TRUE(back.is_ok()) << id.text() << ": " << back.error().message;
    EXPECT_EQ(*back, id);
    EXPECT_EQ(back->bytes(), bytes);
  }
}

TEST(ReplayIdTest, ParseRefusesWhatTextNeverWrites) {
  for (const char* text : {"", " 1", "1 ", "+1", "1.5", "0x10", "abc", "12a", "9223372036854775808",
                           "-9223372036854775809"}) {
    auto id = ReplayId::parse(ReplayId::Kind::kCometd, text);
    ASSERT_FALSE(id.is_ok()) << "\"" << text << "\"";
    EXPECT_EQ(id.error().kind, ErrorKind::kInvalidInput);
    EXPECT_NE(id.error().message.find("CometD replay ID"), std::string::npos) << id.error().message;
  }
  for (const char* text : {"Zg", "Zg=", "Z===", "Zh==", "Zm9=", "Zm 9", "Zm9v\n", "Zm-_", "=Zg="}) {
    auto id = ReplayId::parse(ReplayId::Kind::kOpaque, text);
    ASSERT_FALSE(id.is_ok()) << "\"" << text << "\"";
    EXPECT_EQ(id.error().kind, ErrorKind::kInvalidInput);
    EXPECT_NE(id.error().message.find("base64"), std::string::npos) << id.error().message;
  }
}

TEST(ReplayIdTest, ParseIsDirectedByKind) {
  // "1234" is both a number and base64: the kind the caller expects decides.
  auto number = ReplayId::parse(ReplayId::Kind::kCometd, "1234");
  auto bytes = ReplayId::parse(ReplayId::Kind::kOpaque, "1234");
  ASSERT_TRUE(number.is_ok());
  ASSERT_TRUE(bytes.is_ok());
  EXPECT_EQ(number->kind(), ReplayId::Kind::kCometd);
  EXPECT_EQ(number->number(), 1234);
  EXPECT_EQ(bytes->kind(), ReplayId::Kind::kOpaque);
  EXPECT_EQ(bytes->bytes(), std::string("\xd7\x6d\xf8", 3));
  EXPECT_STREQ(to_string(ReplayId::Kind::kCometd), "cometd");
  EXPECT_STREQ(to_string(ReplayId::Kind::kOpaque), "opaque");
}

}  // namespace
}  // namespace sfkb::core
