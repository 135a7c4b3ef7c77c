// The name checks of daemon/config/names.h.

#include <gtest/gtest.h>

#include "daemon/config/names.h"

namespace sfkb::config {
namespace {

TEST(ApiVersion, ShouldAcceptSupportedVersionsAndRefuseOlderOnes) {
  EXPECT_EQ(api_version_problem("62.0"), "");
  EXPECT_EQ(api_version_problem("37.0"), "");
  EXPECT_EQ(api_version_problem("36.0"),
            "must be 37.0 or later (the oldest version CometD accepts)");
  EXPECT_EQ(api_version_problem("62"), "\"62\" is not an API version such as \"62.0\"");
}

// A typo of many digits is a problem with its line, not an uncaught std::out_of_range (abort).
TEST(ApiVersion, ShouldRefuseAMajorVersionBeyondAnyIntegerInsteadOfThrowing) {
  EXPECT_EQ(api_version_problem("99999999999.0"),
            "\"99999999999.0\" is not an API version such as \"62.0\"");
}

TEST(TopicName, ShouldCountThePrefixInTheLength) {
  EXPECT_EQ(topic_name_problem(std::string(249, 'a'), ""), "");
  EXPECT_NE(topic_name_problem(std::string(249, 'a'), "p."), "");
  EXPECT_NE(topic_name_problem("a b", ""), "");
  EXPECT_EQ(topic_name_problem("", ""), "must not be empty");
}

}  // namespace
}  // namespace sfkb::config
