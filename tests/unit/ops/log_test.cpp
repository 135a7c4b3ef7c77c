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

// Whatever a caller logs, the one redaction rule (core/redact.h) applies to the line.
TEST(Log, ShouldRedactSecretsInEveryFormat) {
  const std::string message =
      "kafka.properties.ssl.key.pem=-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END "
      "PRIVATE KEY----- sasl.oauthbearer.config=\"principal=admin clientSecret=oidc-s3cr3t\" "
      "sasl.password=sasl-pa55 ssl.key.password=key-pa55 ssl.keystore.password=store-pa55 "
      "sasl.oauthbearer.client.secret=client-s3cr3t api_token=tok-123456 topic=orders";
  for (auto format : {config::LogFormat::kText, config::LogFormat::kJson}) {
    const auto line = log_line_as(format, message);
    for (const char* secret : {"MIIEvQIBADANBgkq", "principal=admin", "oidc-s3cr3t", "sasl-pa55",
                               "key-pa55", "store-pa55", "client-s3cr3t", "tok-123456"}) {
      EXPECT_THAT(line, Not(HasSubstr(secret))) << line;
    }
    EXPECT_THAT(line, HasSubstr("topic=orders"));
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "still exactly one line: " << line;
  }
}

}  // namespace
}  // namespace sfkb::ops
