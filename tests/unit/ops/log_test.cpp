#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/ops/log.h"
#include "daemon/ops/log_fields.h"

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

// A line with its fields given as data (ops/log_fields.h), in either format.
std::string fields_line_as(config::LogFormat format) {
  config::LoggingConfig logging;
  logging.format = format;
  setup_logging(logging);
  ::testing::internal::CaptureStdout();
  const std::string channel = "/event/A__e";
  ops::info(logger("logtest"), "produced {} {} {}, {}; all \"good\"", field("channel", channel),
            field("replay_id", 42), field("topic", "orders"), field("partition", 0));
  std::string out = ::testing::internal::GetCapturedStdout();
  setup_logging(config::LoggingConfig{});
  return out;
}

TEST(JsonLog, ShouldWriteOneObjectPerLineWithTheKeyValueFields) {
  const auto line = fields_line_as(config::LogFormat::kJson);
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

TEST(TextLog, ShouldWriteFieldsAsKeyValueWhereTheFormatPutsThem) {
  EXPECT_THAT(fields_line_as(config::LogFormat::kText),
              HasSubstr(" info [logtest] produced channel=/event/A__e replay_id=42 topic=orders, "
                        "partition=0; all \"good\"\n"));
}

// Fields are data: a value keeps its spaces, quotes and punctuation, and text that merely looks
// like key=value (an echoed error message, a server reply) is not mistaken for a field.
TEST(JsonLog, ShouldTakeFieldsFromTheCallNotFromTheText) {
  config::LoggingConfig logging;
  logging.format = config::LogFormat::kJson;
  setup_logging(logging);
  ::testing::internal::CaptureStdout();
  const std::string reason = "Bad \"value\", see docs";
  ops::warn(logger("logtest"), "refused ({}, {}): server said status=500 flow=jwt",
            field("channel", "/event/A__e"), quoted_field("reason", reason));
  logger("logtest")->info("plain text with status=500 and topic=orders");
  const std::string out = ::testing::internal::GetCapturedStdout();
  setup_logging(config::LoggingConfig{});
  const auto newline = out.find('\n');
  ASSERT_NE(newline, std::string::npos) << out;
  const std::string first = out.substr(0, newline + 1);
  const std::string second = out.substr(newline + 1);
  EXPECT_THAT(first, HasSubstr("\"message\":\"refused (channel=/event/A__e, reason=\\\"Bad "
                               "\\\"value\\\", see docs\\\"): server said status=500 flow=jwt\""));
  EXPECT_THAT(first, HasSubstr(",\"fields\":{\"channel\":\"/event/A__e\",\"reason\":\"Bad "
                               "\\\"value\\\", see docs\"}}\n"));
  EXPECT_THAT(second, HasSubstr("\"message\":\"plain text with status=500 and topic=orders\"}\n"));
  EXPECT_THAT(second, Not(HasSubstr("fields")));
}

TEST(JsonLog, ShouldRedactSecretsInFieldValues) {
  config::LoggingConfig logging;
  logging.format = config::LogFormat::kJson;
  setup_logging(logging);
  ::testing::internal::CaptureStdout();
  ops::warn(logger("logtest"), "login refused: {} {}", field("client_secret", "s3cr3t-value"),
            field("detail", "sasl.password=field-pa55"));
  const std::string out = ::testing::internal::GetCapturedStdout();
  setup_logging(config::LoggingConfig{});
  EXPECT_THAT(out, Not(HasSubstr("s3cr3t-value")));
  EXPECT_THAT(out, Not(HasSubstr("field-pa55")));
  EXPECT_THAT(out, HasSubstr("\"client_secret\":\"***\""));
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
