// librdkafka's log lines in the bridge's log (daemon/kafka/logging.h): the configuration notices
// the bridge causes on purpose are debug lines, every other notice keeps its level.
#include "daemon/kafka/logging.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <string>

#include "daemon/kafka/client_config.h"
#include "daemon/kafka/producer.h"
#include "daemon/ops/log.h"

namespace sfkb::kafka {
namespace {

constexpr const char* kGapless =
    "[thrd:app]: Configuration property enable.gapless.guarantee is experimental: When set to "
    "`true`, any error that could result in a gap in the produced message series when a batch of "
    "messages fails, will raise a fatal error (ERR__GAPLESS_GUARANTEE) and stop the producer.";
constexpr const char* kNoBootstrap =
    "[thrd:app]: No `bootstrap.servers` configured: client will not be able to connect to Kafka "
    "cluster";

TEST(KafkaLogLevel, SyslogLevelsMapToSpdlogLevels) {
  EXPECT_EQ(level_for(3, "sf-kafka-bridge#producer-1", "FAIL", "down"), spdlog::level::err);
  EXPECT_EQ(level_for(4, "sf-kafka-bridge#producer-1", "REQTMOUT", "slow"), spdlog::level::warn);
  EXPECT_EQ(level_for(5, "sf-kafka-bridge#producer-1", "CONFWARN", "x"), spdlog::level::info);
  EXPECT_EQ(level_for(6, "sf-kafka-bridge#producer-1", "INFO", "x"), spdlog::level::info);
  EXPECT_EQ(level_for(7, "sf-kafka-bridge#producer-1", "BROKER", "x"), spdlog::level::debug);
}

TEST(KafkaLogLevel, TheEnforcedExperimentalPropertyNoticeIsDebug) {
  EXPECT_EQ(level_for(4, "sf-kafka-bridge#producer-1", "CONFWARN", kGapless), spdlog::level::debug);
  // Any other experimental or ignored property a user sets stays a warning.
  EXPECT_EQ(level_for(4, "sf-kafka-bridge#producer-1", "CONFWARN",
                      "[thrd:app]: Configuration property fetch.wait.max.ms is a consumer "
                      "property and will be ignored by this producer instance"),
            spdlog::level::warn);
  EXPECT_EQ(level_for(4, "sf-kafka-bridge#producer-1", "OTHER", kGapless), spdlog::level::warn);
}

TEST(KafkaLogLevel, OnlyTheEmbeddedClusterOwnerMayLackBootstrapServers) {
  const std::string owner = std::string(kEmbeddedOwnerClientId) + "#producer-1";
  EXPECT_EQ(level_for(5, owner, "CONFWARN", kNoBootstrap), spdlog::level::debug);
  EXPECT_EQ(level_for(4, owner, "CONFWARN", kNoBootstrap), spdlog::level::debug);
  EXPECT_EQ(level_for(4, "sf-kafka-bridge#producer-1", "CONFWARN", kNoBootstrap),
            spdlog::level::warn);
  EXPECT_EQ(level_for(4, std::string(kEmbeddedOwnerClientId) + "-other#producer-2", "CONFWARN",
                      kNoBootstrap),
            spdlog::level::warn);
}

// The demo's set-up (kafka.embedded, the bridge's producer with its enforced properties) logs no
// librdkafka line at info or above: neither notice reaches an operator's log as a warning.
TEST(KafkaLogLevel, EmbeddedClusterAndProducerStartWithoutLibrdkafkaNotices) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256);
  sink->set_pattern("%l %v");
  auto log = ops::logger("kafka");
  log->sinks().push_back(sink);
  const auto previous = log->level();
  log->set_level(spdlog::level::debug);

  config::KafkaConfig kafka;
  kafka.embedded = true;
  ClientConfig config(kafka, Role::kProducer);
  {
    Producer producer(config, [](const Delivery&) {});
  }  // only its start-up lines matter
  log->flush();
  log->set_level(previous);
  log->sinks().pop_back();

  int debug_notices = 0;
  for (const auto& line : sink->last_formatted()) {
    if (line.find(" librdkafka ") != line.find(' ')) {
      continue;  // not a line of librdkafka's (they read "<level> librdkafka <handle> ...")
    }
    if (line.rfind("debug ", 0) == 0) {
      debug_notices += line.find("CONFWARN") != std::string::npos ? 1 : 0;
      continue;
    }
    ADD_FAILURE() << "a librdkafka line above debug: " << line;
  }
  // Both expected notices were emitted - at debug (a librdkafka that stops emitting them makes
  // this test say so rather than pass for the wrong reason).
  EXPECT_GE(debug_notices, 2);
}

}  // namespace
}  // namespace sfkb::kafka
