// CometdClient + TokenCache + CurlTransport against the real emulator. The test plays the
// pipeline: it drives next_batch() and acknowledges every event at once, so its ResumePoints
// answer the last event received per channel.
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "daemon/http/curl_transport.h"
#include "daemon/salesforce/cometd_client.h"
#include "daemon/salesforce/token_cache.h"
#include "emulator/emulator_process.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <openssl/evp.h>
#include <openssl/pem.h>

namespace sfkb::salesforce {
namespace {

using namespace std::chrono_literals;
using emulator::testing::EmulatorProcess;

constexpr const char* kAlpha = "/event/Alpha__e";
constexpr const char* kBeta = "/event/Beta__e";
constexpr const char* kEvents =
    "events:\n  Alpha__e:\n    Text__c: string\n  Beta__e:\n    Text__c: string\n";

EmulatorProcess::Options emulator_options(bool oauth, int connect_timeout_ms = 2000) {
  EmulatorProcess::Options options;
  options.events_yaml = kEvents;
  options.extra_args = {"--connect-timeout-ms", std::to_string(connect_timeout_ms)};
  if (oauth) {
    options.static_token.clear();
    options.extra_args.insert(options.extra_args.end(),
                              {"--client-id", "bridge-app", "--client-secret", "app-secret-123"});
  }
  return options;
}

config::SalesforceConfig salesforce_config(const EmulatorProcess& sf, bool oauth) {
  config::SalesforceConfig config;
  config.login_url = sf.base_url();
  if (oauth) {
    config.auth.flow = config::AuthFlow::kClientCredentials;
    config.auth.client_id = "bridge-app";
    config.auth.client_secret = "app-secret-123";
  } else {
    config.auth.flow = config::AuthFlow::kAccessToken;
    config.auth.access_token = sf.static_token();
    config.auth.instance_url = sf.base_url();
  }
  return config;
}

// The pipeline's side of the ResumePoints seam: what it has acknowledged, per channel.
struct Acknowledged final : ResumePoints, std::map<std::string, std::int64_t> {
  std::optional<core::ReplayId> resume_point(const std::string& channel) const override {
    const auto it = find(channel);
    return it == end() ? std::nullopt : std::optional(core::ReplayId::cometd(it->second));
  }
};

// The pipeline's side: collects events, acknowledges each at once, checks order per channel.
struct Harness {
  Harness(EmulatorProcess& sf, bool oauth, std::int64_t start = -2)
      : Harness(salesforce_config(sf, oauth), start) {}
  explicit Harness(const config::SalesforceConfig& config, std::int64_t start = -2)
      : tokens(config, std::make_unique<http::CurlTransport>(), metrics) {
    CometdOptions options;
    options.api_version = "62.0";
    options.channels = {
        {kAlpha, core::ReplayId::cometd(start), config::InvalidReplayPolicy::kEarliest},
        {kBeta, core::ReplayId::cometd(start), config::InvalidReplayPolicy::kEarliest}};
    options.retry.initial_backoff = 10ms;
    options.retry.max_backoff = 200ms;
    options.retry.daily_limit_backoff = 50ms;
    options.long_poll_margin = 5s;
    client = std::make_unique<CometdClient>(tokens, std::make_unique<http::CurlTransport>(),
                                            options, acknowledged, metrics);
  }

  // Drives next_batch until `total` events arrived or the deadline passed.
  void receive_until(std::size_t total, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received.size() < total && std::chrono::steady_clock::now() < deadline) {
      std::vector<StreamEvent> batch;
      auto status = client->next_batch({}, batch);
      ASSERT_TRUE(status) << status.message();
      for (auto& event : batch) {
        if (event.restart) {
          restarts.push_back(std::move(event));
          continue;
        }
        // Replay IDs are positive; a channel seen for the first time starts at 0 here.
        auto& last = acknowledged[event.channel];
        EXPECT_GT(event.replay_id.number(), last)
            << "out of order or duplicate on " << event.channel;
        last = event.replay_id.number();
        received.push_back(std::move(event));
      }
    }
  }

  std::vector<std::string> texts(const std::string& channel) const {
    std::vector<std::string> out;
    for (const auto& event : received) {
      if (event.channel == channel) {
        rapidjson::Document doc;
        doc.Parse(event.payload_json.c_str());
        out.push_back(doc["Text__c"].GetString());
      }
    }
    return out;
  }

  std::uint64_t counter(const std::string& name, const ops::Labels& labels = {}) {
    return metrics.counter(name, "", labels).value();
  }

  ops::Metrics metrics;
  TokenCache tokens;
  Acknowledged acknowledged;  // before the client, which reads it
  std::unique_ptr<CometdClient> client;
  std::vector<StreamEvent> received;
  std::vector<StreamEvent> restarts;  // ChannelRestart items
};

std::vector<std::string> expected_texts(const std::string& prefix, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) {
    out.push_back(prefix + std::to_string(i));
  }
  return out;
}

TEST(CometdEmulator, ShouldReceiveInjectedEventsOnTwoChannelsInOrder) {
  EmulatorProcess sf(emulator_options(false));
  Harness harness(sf, false);
  sf.inject(kAlpha, 50, R"({"Text__c":"a-{seq}"})");
  sf.inject(kBeta, 30, R"({"Text__c":"b-{seq}"})");
  harness.receive_until(80, 30s);
  ASSERT_EQ(harness.received.size(), 80u);
  EXPECT_EQ(harness.texts(kAlpha), expected_texts("a-", 0, 50));
  EXPECT_EQ(harness.texts(kBeta), expected_texts("b-", 0, 30));
  for (const auto& event : harness.received) {
    EXPECT_FALSE(event.event_uuid.empty());
    EXPECT_FALSE(event.schema.empty());
  }
  EXPECT_TRUE(harness.client->connected());
  EXPECT_EQ(harness.counter("sfkb_events_received_total", {{"channel", kAlpha}}), 50u);
  harness.client->disconnect();
  EXPECT_FALSE(harness.client->connected());
}

TEST(CometdEmulator, ShouldReauthenticateAfterTokensExpireWithoutLosingEvents) {
  EmulatorProcess sf(emulator_options(true));
  Harness harness(sf, true);
  sf.inject(kAlpha, 20, R"({"Text__c":"a-{seq}"})");
  harness.receive_until(20, 30s);
  ASSERT_EQ(harness.received.size(), 20u);

  sf.faults(R"({"expire_tokens":true})");
  sf.inject(kAlpha, 20, R"({"Text__c":"a-{seq}"})");
  sf.inject(kBeta, 5, R"({"Text__c":"b-{seq}"})");
  harness.receive_until(45, 30s);

  auto alpha = expected_texts("a-", 0, 20);
  const auto second = expected_texts("a-", 0, 20);
  alpha.insert(alpha.end(), second.begin(), second.end());
  EXPECT_EQ(harness.texts(kAlpha), alpha);
  EXPECT_EQ(harness.texts(kBeta), expected_texts("b-", 0, 5));
  EXPECT_GE(harness.counter("sfkb_token_refreshes_total"), 2u);
}

TEST(CometdEmulator, ShouldRehandshakeFromResumePointWhenSessionsAreDropped) {
  EmulatorProcess sf(emulator_options(false));
  Harness harness(sf, false);
  sf.inject(kAlpha, 10, R"({"Text__c":"first-{seq}"})");
  harness.receive_until(10, 30s);
  ASSERT_EQ(harness.received.size(), 10u);

  sf.faults(R"({"drop_sessions":true})");
  sf.inject(kAlpha, 10, R"({"Text__c":"second-{seq}"})");
  harness.receive_until(20, 30s);
  // Nothing twice (each event is newer than the last acknowledged: checked in receive_until)
  // and nothing missing.
  auto expected = expected_texts("first-", 0, 10);
  const auto second = expected_texts("second-", 0, 10);
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(harness.texts(kAlpha), expected);
  EXPECT_GE(harness.counter("sfkb_cometd_rehandshakes_total"), 1u);
}

TEST(CometdEmulator, ShouldRecoverFromBusyConnects) {
  EmulatorProcess sf(emulator_options(false));
  Harness harness(sf, false);
  harness.receive_until(1, 100ms);  // session up (no events yet)
  sf.faults(R"({"busy_next_connects":3})");
  sf.inject(kBeta, 5, R"({"Text__c":"b-{seq}"})");
  harness.receive_until(5, 30s);
  EXPECT_EQ(harness.texts(kBeta), expected_texts("b-", 0, 5));
  EXPECT_GE(harness.counter("sfkb_cometd_reconnects_total"), 3u);
}

// A malformed message inside a readable reply is skipped and counted; a reply that is not
// Bayeux at all ends the session (its events may be gone from the server's queue), and the new
// session replays from the last acknowledged event.
TEST(CometdEmulator, ShouldSkipMalformedMessagesAndRenewTheSessionAfterAGarbageReply) {
  EmulatorProcess sf(emulator_options(false));
  Harness harness(sf, false);
  harness.receive_until(1, 100ms);
  sf.faults(
      R"({"garbage_next_connects":1,"connect_reply_extra":[{"channel":"/event/Alpha__e","data":{"payload":{},"event":{"replayId":"not-a-number"}}},{"channel":"/event/Nobody__e","data":{"payload":{},"event":{"replayId":1}}}]})");
  sf.inject(kAlpha, 3, R"({"Text__c":"a-{seq}"})");
  harness.receive_until(3, 30s);
  EXPECT_EQ(harness.texts(kAlpha), expected_texts("a-", 0, 3));
  EXPECT_GE(harness.counter("sfkb_malformed_messages_total"), 2u);
  EXPECT_EQ(harness.counter("sfkb_cometd_lost_replies_total",
                            {{"exchange", "connect"}, {"reason", "undecodable"}}),
            1u);
  EXPECT_EQ(harness.counter("sfkb_cometd_rehandshakes_total"), 1u);
}

TEST(CometdEmulator, ShouldFallBackToEarliestWhenResumePointIsOutsideRetention) {
  EmulatorProcess sf(emulator_options(false));
  const auto old = sf.inject(kAlpha, 10, R"({"Text__c":"old-{seq}"})");
  sf.faults(R"({"retention":5})");
  Harness harness(sf, false);
  harness.acknowledged[kAlpha] = old.first_replay_id;  // older than what is retained now
  harness.receive_until(5, 30s);
  EXPECT_EQ(harness.texts(kAlpha), expected_texts("old-", 5, 10));
  EXPECT_EQ(harness.counter("sfkb_invalid_replay_fallbacks_total", {{"channel", kAlpha}}), 1u);
  ASSERT_EQ(harness.restarts.size(), 1u);
  EXPECT_EQ(harness.restarts[0].channel, kAlpha);
  EXPECT_EQ(harness.restarts[0].restart->refused_replay_id,
            core::ReplayId::cometd(old.first_replay_id));
}

TEST(CometdEmulator, ShouldBackOffLongAndRecoverAfterDailyLimit) {
  EmulatorProcess sf(emulator_options(false));
  Harness harness(sf, false);
  harness.receive_until(1, 100ms);
  sf.faults(R"({"daily_limit_next_connects":1})");
  sf.inject(kAlpha, 2, R"({"Text__c":"a-{seq}"})");
  harness.receive_until(2, 30s);
  EXPECT_EQ(harness.texts(kAlpha), expected_texts("a-", 0, 2));
  EXPECT_EQ(harness.counter("sfkb_daily_limit_exceeded_total"), 1u);
}

// An RSA key pair for the JWT bearer flow: the private PEM for the bridge, the public PEM in a
// file for the emulator's --jwt-public-key.
struct JwtKeys {
  JwtKeys() {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), &EVP_PKEY_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> priv(BIO_new(BIO_s_mem()), &BIO_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> pub(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    PEM_write_bio_PUBKEY(pub.get(), key.get());
    char* data = nullptr;
    const long n = BIO_get_mem_data(priv.get(), &data);
    private_pem.assign(data, n);
    const long m = BIO_get_mem_data(pub.get(), &data);
    public_file = std::filesystem::temp_directory_path() /
                  ("sfkb-jwt-" + std::to_string(::getpid()) + "-" +
                   std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".pem");
    std::ofstream(public_file) << std::string(data, m);
  }
  ~JwtKeys() { std::filesystem::remove(public_file); }
  std::string private_pem;
  std::filesystem::path public_file;
};

EmulatorProcess::Options jwt_emulator(const JwtKeys& keys) {
  EmulatorProcess::Options options;
  options.events_yaml = kEvents;
  options.static_token.clear();
  options.extra_args = {
      "--connect-timeout-ms", "2000",       "--jwt-public-key", keys.public_file.string(),
      "--client-id",          "bridge-app", "--username",       "integration@example.com"};
  return options;
}

config::SalesforceConfig jwt_config(const EmulatorProcess& sf, const JwtKeys& keys,
                                    const std::string& username) {
  config::SalesforceConfig config;
  config.login_url = sf.base_url();
  config.auth.flow = config::AuthFlow::kJwtBearer;
  config.auth.client_id = "bridge-app";
  config.auth.username = username;
  config.auth.private_key = keys.private_pem;
  return config;
}

TEST(CometdEmulator, ShouldAuthenticateWithJwtBearerAndSignAgainAfterExpiry) {
  JwtKeys keys;
  EmulatorProcess sf(jwt_emulator(keys));
  Harness harness(jwt_config(sf, keys, "integration@example.com"));
  sf.inject(kAlpha, 3, R"({"Text__c":"a-{seq}"})");
  harness.receive_until(3, 30s);
  sf.faults(R"({"expire_tokens":true})");
  sf.inject(kAlpha, 3, R"({"Text__c":"b-{seq}"})");
  harness.receive_until(6, 30s);
  auto expected = expected_texts("a-", 0, 3);
  const auto second = expected_texts("b-", 0, 3);
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(harness.texts(kAlpha), expected);
  EXPECT_EQ(harness.counter("sfkb_token_refreshes_total"), 2u);
}

TEST(CometdEmulator, ShouldStopWithTheOAuthErrorWhenTheJwtUserIsRefused) {
  JwtKeys keys;
  EmulatorProcess sf(jwt_emulator(keys));
  Harness harness(jwt_config(sf, keys, "someone-else@example.com"));
  std::vector<StreamEvent> batch;
  auto status = harness.client->next_batch({}, batch);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.kind(), core::ErrorKind::kFatal);
  EXPECT_NE(status.message().find("invalid_grant"), std::string::npos) << status.message();
}

TEST(CometdEmulator, ShouldReturnWithinASecondWhenStoppedDuringALongPoll) {
  EmulatorProcess sf(emulator_options(false, 60000));
  Harness harness(sf, false);
  std::stop_source stop;
  core::Status status_holder;
  std::thread poller([&] {
    while (!stop.stop_requested()) {
      std::vector<StreamEvent> batch;
      auto status = harness.client->next_batch(stop.get_token(), batch);
      if (!status) {
        status_holder = status;
        return;
      }
    }
  });
  // Wait until the client's connect is actually parked in the emulator.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  bool parked = false;
  while (!parked && std::chrono::steady_clock::now() < deadline) {
    rapidjson::Document stats;
    stats.Parse(sf.stats().c_str());
    parked = stats.IsObject() && stats["connects_in_flight"].GetInt() > 0;
    if (!parked) {
      std::this_thread::sleep_for(20ms);  // polling interval of a condition, not a synchronisation
    }
  }
  ASSERT_TRUE(parked);
  const auto stopped_at = std::chrono::steady_clock::now();
  stop.request_stop();
  poller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, 1s);
  ASSERT_FALSE(status_holder);
  EXPECT_EQ(status_holder.kind(), core::ErrorKind::kStopped);
}

}  // namespace
}  // namespace sfkb::salesforce
