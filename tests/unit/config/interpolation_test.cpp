#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/config/loader.h"
#include "tests/unit/config/test_support.h"

namespace sfkb::config {
namespace {

using testing::env_of;
using ::testing::HasSubstr;

TEST(Interpolation, ShouldReplaceASetVariable) {
  auto result = interpolate("broker-${HOST}:9092", env_of({{"HOST", "kafka1"}}));
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.value, "broker-kafka1:9092");
}

TEST(Interpolation, ShouldUseTheDefaultWhenTheVariableIsUnsetOrEmpty) {
  EXPECT_EQ(interpolate("${PREFIX:-dev.}", env_of({})).value, "dev.");
  EXPECT_EQ(interpolate("${PREFIX:-dev.}", env_of({{"PREFIX", ""}})).value, "dev.");
  EXPECT_EQ(interpolate("${PREFIX:-dev.}", env_of({{"PREFIX", "prod."}})).value, "prod.");
  EXPECT_EQ(interpolate("${PREFIX:-}", env_of({})).value, "");
}

TEST(Interpolation, ShouldNameAnUnsetVariableWithoutDefault) {
  auto result = interpolate("${SF_CLIENT_ID}", env_of({}));
  ASSERT_TRUE(result.error);
  EXPECT_THAT(*result.error, HasSubstr("SF_CLIENT_ID is not set"));
}

TEST(Interpolation, ShouldNameEveryUnsetVariableOfOneValue) {
  auto result = interpolate("${A}:${B}", env_of({}));
  ASSERT_TRUE(result.error);
  EXPECT_THAT(*result.error, HasSubstr("A, B are not set"));
}

TEST(Interpolation, ShouldKeepAVariableThatIsSetButEmpty) {
  auto result = interpolate("x${EMPTY}y", env_of({{"EMPTY", ""}}));
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.value, "xy");
}

TEST(Interpolation, ShouldTreatDollarDollarBraceAsLiteral) {
  auto result = interpolate("a$${NOT_A_VAR}b", env_of({}));
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.value, "a${NOT_A_VAR}b");
}

TEST(Interpolation, ShouldLeaveOtherDollarSignsAlone) {
  auto result = interpolate("pa$$w$rd$", env_of({}));
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.value, "pa$$w$rd$");
}

TEST(Interpolation, ShouldNotExpandInsideASubstitutedValue) {
  auto result = interpolate("${A}", env_of({{"A", "${B}"}, {"B", "no"}}));
  EXPECT_EQ(result.value, "${B}");
}

TEST(Interpolation, ShouldRejectAnUnterminatedReference) {
  auto result = interpolate("${OOPS", env_of({}));
  ASSERT_TRUE(result.error);
  EXPECT_THAT(*result.error, HasSubstr("unterminated"));
}

TEST(Interpolation, ShouldRejectAnInvalidVariableName) {
  auto result = interpolate("${1ABC}", env_of({}));
  ASSERT_TRUE(result.error);
  EXPECT_THAT(*result.error, HasSubstr("is not ${VAR}"));
}

TEST(Durations, ShouldAcceptUnitsAndPlainMilliseconds) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("20s"), milliseconds(20000));
  EXPECT_EQ(parse_duration("15m"), milliseconds(900000));
  EXPECT_EQ(parse_duration("1h"), milliseconds(3600000));
  EXPECT_EQ(parse_duration("1500"), milliseconds(1500));
}

TEST(Durations, ShouldRejectAnythingElse) {
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("20 s"));
  EXPECT_FALSE(parse_duration("1d"));
  EXPECT_FALSE(parse_duration("1.5s"));
  EXPECT_FALSE(parse_duration("9223372036854775807h"));
}

}  // namespace
}  // namespace sfkb::config
