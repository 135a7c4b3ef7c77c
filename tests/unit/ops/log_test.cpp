#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/ops/log.h"

namespace sfkb::ops {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string log_line_as(config::LogFormat format, const std::string& message) {
  config::LoggingConfig logging;
  logging.format = format;
  setup_logging(logging);
  ::testing::internal::CaptureStdout();
  logger("logtest")->info("{}", message);
  std::string out = ::testing::internal::GetCapturedStdout();
  setup_logging(config::LoggingConfig{});
  return out;
}

TEST(JsonLog, ShouldWriteOneObjectPerLineWithTheKeyValueFields) {
  const auto line = log_line_as(config::LogFormat::kJson,
                                "produced channel=/event/A__e replay_id=42 topic=orders, "
                                "partition=0; all \"good\"");
  EXPECT_THAT(line, HasSubstr("\"level\":\"info\",\"logger\":\"logtest\","));
  EXPECT_THAT(line, HasSubstr("\"message\":\"produced channel=/event/A__e replay_id=42 "
                              "topic=orders, partition=0; all \\\"good\\\"\""));
  EXPECT_THAT(line, HasSubstr(",\"fields\":{\"channel\":\"/event/A__e\",\"replay_id\":\"42\","
                              "\"topic\":\"orders\",\"partition\":\"0\"}}\n"));
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one line";
}

TEST(JsonLog, ShouldOmitFieldsWhenTheMessageHasNone) {
  const auto line = log_line_as(config::LogFormat::kJson, "a = b, =c, d= plain text");
  EXPECT_THAT(line, Not(HasSubstr("fields")));
  EXPECT_THAT(line, HasSubstr("\"message\":\"a = b, =c, d= plain text\"}\n"));
}

TEST(TextLog, ShouldWriteLevelLoggerAndMessage) {
  const auto line = log_line_as(config::LogFormat::kText, "hello channel=/event/A__e");
  EXPECT_THAT(line, HasSubstr(" info [logtest] hello channel=/event/A__e\n"));
}

}  // namespace
}  // namespace sfkb::ops
