// CometdClient against a scripted Bayeux server one layer below it (FakeTransport): every
// request is decoded and answered the way docs/SALESFORCE_PROTOCOL.md says Salesforce answers.
#include "daemon/salesforce/cometd_client.h"

#include <deque>
#include <future>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/unit/salesforce/fake_transport.h"

namespace sfkb::salesforce {
namespace {

using namespace std::chrono_literals;
using testing::FakeTransport;
using testing::json_response;

constexpr const char* kA = "/event/Alpha__e";
constexpr const char* kB = "/event/Beta__e";
constexpr const char* kInstance = "https://na1.example.com";

std::string event_json(const std::string& channel, std::int64_t replay_id) {
  return R"({"channel":")" + channel +
         R"(","data":{"schema":"s1","payload":{"CreatedDate":"2026-11-26T17:30:00.000Z","N__c":)" +
         std::to_string(replay_id) + R"(},"event":{"EventUuid":"u-)" + std::to_string(replay_id) +
         R"(","replayId":)" + std::to_string(replay_id) + "}}}";
}

std::string connect_ok(const std::vector<std::string>& events = {}) {
  std::string body = "[";
  for (const auto& e : events) {
    body += e + ",";
  }
  body +=
      R"({"channel":"/meta/connect","successful":true,"advice":{"reconnect":"retry","interval":0,"timeout":110000}}])";
  return body;
}

class FakeTokens final : public TokenSource {
 public:
  core::Result<Session> session(std::stop_token) override {
    ++sessions;
    return current();
  }
  core::Result<Session> refresh(const Session& rejected, std::stop_token) override {
    refreshed_generations.push_back(rejected.generation);
    if (fail_refresh) {
      return core::fatal_error("login refused");
    }
    ++generation;
    return current();
  }
  Session current() const {
    return {"token-" + std::to_string(generation), kInstance, generation, org_id, ""};
  }
  std::uint64_t generation = 1;
  std::string org_id;
  int sessions = 0;
  bool fail_refresh = false;
  std::vector<std::uint64_t> refreshed_generations;
};

struct Subscribe {
  std::string client_id;
  std::string subscription;
  std::map<std::string, std::int64_t> replay;
};

// A Bayeux server: default answers succeed; tests queue other answers per meta channel.
class ScriptedServer {
 public:
  ScriptedServer() {
    transport = std::make_unique<FakeTransport>(
        [this](const http::Request& request) { return answer(request); });
    fake = transport.get();
  }

  core::Result<http::Response> answer(const http::Request& request) {
    rapidjson::Document doc;
    doc.Parse(request.body.c_str());
    if (doc.HasParseError() || !doc.IsArray() || doc.Size() != 1) {
      return json_response(400, "request is not an array of one message");
    }
    const auto& message = doc[0];
    const std::string channel = message["channel"].GetString();
    channels.push_back(channel);
    authorizations.push_back(request.headers.back().second);
    timeouts[channel] = request.timeout;
    if (channel == "/meta/subscribe") {
      Subscribe s{message["clientId"].GetString(), message["subscription"].GetString(), {}};
      for (const auto& m : message["ext"]["replay"].GetObject()) {
        s.replay[m.name.GetString()] = m.value.GetInt64();
      }
      subscribes.push_back(s);
    }
    if (auto it = queued.find(channel); it != queued.end() && !it->second.empty()) {
      auto reply = std::move(it->second.front());
      it->second.pop_front();
      return reply;
    }
    if (channel == "/meta/handshake") {
      ++handshakes;
      return json_response(
          200,
          R"([{"channel":"/meta/handshake","successful":true,"clientId":"client-)" +
              std::to_string(handshakes) +
              R"(","version":"1.0","advice":{"timeout":110000,"interval":0,"reconnect":"retry"}}])");
    }
    if (channel == "/meta/subscribe") {
      return json_response(200,
                           R"([{"channel":"/meta/subscribe","successful":true,"subscription":")" +
                               std::string(message["subscription"].GetString()) + R"("}])");
    }
    if (channel == "/meta/disconnect") {
      return json_response(200, R"([{"channel":"/meta/disconnect","successful":true}])");
    }
    return json_response(200, connect_ok());
  }

  void queue(const std::string& channel, core::Result<http::Response> reply) {
    queued[channel].push_back(std::move(reply));
  }
  int count(const std::string& channel) const {
    return static_cast<int>(std::count(channels.begin(), channels.end(), channel));
  }

  std::unique_ptr<FakeTransport> transport;
  FakeTransport* fake = nullptr;
  std::map<std::string, std::deque<core::Result<http::Response>>> queued;
  std::vector<std::string> channels;
  std::vector<std::string> authorizations;
  std::vector<Subscribe> subscribes;
  std::map<std::string, std::chrono::milliseconds> timeouts;
  int handshakes = 0;
};

// The pipeline's side of the ResumePoints seam: what it has acknowledged, per channel.
struct Acknowledged final : ResumePoints, std::map<std::string, std::int64_t> {
  std::optional<core::ReplayId> resume_point(const std::string& channel) const override {
    const auto it = find(channel);
    return it == end() ? std::nullopt : std::optional(core::ReplayId::cometd(it->second));
  }
};

class CometdClientTest : public ::testing::Test {
 protected:
  CometdOptions options(
      config::InvalidReplayPolicy policy = config::InvalidReplayPolicy::kEarliest) {
    CometdOptions o;
    o.api_version = "62.0";
    o.channels = {{kA, core::ReplayId::cometd(-1), policy},
                  {kB, core::ReplayId::cometd(-2), policy}};
    o.retry.initial_backoff = 1ms;
    o.retry.max_backoff = 2ms;
    o.retry.daily_limit_backoff = 3ms;
    o.backoff_seed = 7;
    return o;
  }
  std::unique_ptr<CometdClient> make(CometdOptions o) {
    return std::make_unique<CometdClient>(tokens, std::move(server.transport), std::move(o),
                                          acknowledged, metrics);
  }
  std::uint64_t counter(const std::string& name, const ops::Labels& labels = {}) {
    return metrics.counter(name, "", labels).value();
  }

  FakeTokens tokens;
  ScriptedServer server;
  ops::Metrics metrics;
  Acknowledged acknowledged;
};

TEST_F(CometdClientTest, ShouldHandshakeSubscribeEachChannelWithItsOwnReplayMapAndConnect) {
  acknowledged[kA] = 41;
  auto client = make(options());
  server.queue("/meta/connect",
               json_response(200, connect_ok({event_json(kA, 42), event_json(kB, 7)})));
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));

  EXPECT_EQ(server.channels, (std::vector<std::string>{"/meta/handshake", "/meta/subscribe",
                                                       "/meta/subscribe", "/meta/connect"}));
  ASSERT_EQ(server.subscribes.size(), 2u);
  EXPECT_EQ(server.subscribes[0].subscription, kA);
  EXPECT_EQ(server.subscribes[0].replay, (std::map<std::string, std::int64_t>{{kA, 41}}));
  EXPECT_EQ(server.subscribes[1].subscription, kB);
  EXPECT_EQ(server.subscribes[1].replay, (std::map<std::string, std::int64_t>{{kB, -2}}));
  EXPECT_EQ(server.subscribes[0].client_id, "client-1");
  EXPECT_EQ(server.fake->cookie_clears(), 1);
  EXPECT_EQ(server.fake->requests()[0].url, std::string(kInstance) + "/cometd/62.0");
  for (const auto& authorization : server.authorizations) {
    EXPECT_EQ(authorization, "Bearer token-1");
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].channel, kA);
  EXPECT_EQ(events[0].replay_id, core::ReplayId::cometd(42));
  EXPECT_EQ(events[0].event_uuid, "u-42");
  EXPECT_EQ(events[1].channel, kB);
  EXPECT_TRUE(client->connected());
  EXPECT_EQ(counter("sfkb_events_received_total", {{"channel", kA}}), 1u);
  EXPECT_EQ(counter("sfkb_http_requests_total", {{"endpoint", "subscribe"}, {"status", "200"}}),
            2u);
}

TEST_F(CometdClientTest, ShouldKeepConnectingWithoutNewHandshakeAfterQuietPoll) {
  auto client = make(options());
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(server.count("/meta/handshake"), 1);
  EXPECT_EQ(server.count("/meta/connect"), 2);
}

TEST_F(CometdClientTest, ShouldBoundLongPollByAdviceTimeoutPlusMargin) {
  auto o = options();
  o.long_poll_margin = 15s;
  auto client = make(o);
  server.queue(
      "/meta/handshake",
      json_response(
          200,
          R"([{"channel":"/meta/handshake","successful":true,"clientId":"c","advice":{"timeout":20000}}])"));
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_EQ(server.timeouts["/meta/connect"], 35000ms);
}

TEST_F(CometdClientTest, ShouldRehandshakeFromLastAcknowledgedReplayIdsNotTheStart) {
  auto client = make(options());
  server.queue("/meta/connect", json_response(200, connect_ok({event_json(kA, 5)})));
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  ASSERT_EQ(events.size(), 1u);
  acknowledged[kA] = 5;  // the pipeline acknowledged it; kB has nothing acknowledged yet
  server.queue(
      "/meta/connect",
      json_response(
          200,
          R"([{"channel":"/meta/connect","successful":false,"error":"403::Unknown client","advice":{"reconnect":"handshake","interval":0}}])"));
  server.queue("/meta/connect", json_response(200, connect_ok({event_json(kA, 6)})));
  events.clear();
  ASSERT_TRUE(client->next_batch({}, events));

  EXPECT_EQ(server.count("/meta/handshake"), 2);
  EXPECT_EQ(server.fake->cookie_clears(), 2);
  ASSERT_EQ(server.subscribes.size(), 4u);
  EXPECT_EQ(server.subscribes[2].replay, (std::map<std::string, std::int64_t>{{kA, 5}}));
  EXPECT_EQ(server.subscribes[3].replay, (std::map<std::string, std::int64_t>{{kB, -2}}));
  EXPECT_EQ(server.subscribes[2].client_id, "client-2");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].replay_id, core::ReplayId::cometd(6));
  EXPECT_EQ(counter("sfkb_cometd_rehandshakes_total"), 1u);
  EXPECT_EQ(tokens.refreshed_generations.size(), 0u);
}

TEST_F(CometdClientTest, ShouldRefreshTokenThenHandshakeOn401) {
  auto client = make(options());
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  server.queue(
      "/meta/connect",
      json_response(
          200,
          R"([{"channel":"/meta/connect","successful":false,"error":"401::Authentication invalid","advice":{"reconnect":"none"}}])"));
  ASSERT_TRUE(client->next_batch({}, events));

  EXPECT_EQ(tokens.refreshed_generations, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(server.count("/meta/handshake"), 2);
  EXPECT_EQ(server.authorizations.back(), "Bearer token-2");
  const auto handshake2 =
      std::find(server.channels.rbegin(), server.channels.rend(), std::string("/meta/handshake"));
  EXPECT_EQ(server.authorizations[server.channels.rend() - handshake2 - 1], "Bearer token-2");
}

TEST_F(CometdClientTest, ShouldRefreshTokenWhenHandshakeIsDeniedFor401) {
  server.queue(
      "/meta/handshake",
      json_response(
          200,
          R"([{"channel":"/meta/handshake","successful":false,"error":"403::Handshake denied","ext":{"sfdc":{"failureReason":"401::Authentication invalid"}},"advice":{"reconnect":"none"}}])"));
  auto client = make(options());
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_EQ(tokens.refreshed_generations, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(server.count("/meta/handshake"), 2);
}

TEST_F(CometdClientTest, ShouldStopWithFatalWhenTheRefreshIsRefused) {
  tokens.fail_refresh = true;
  server.queue("/meta/connect", json_response(401, "[]"));
  auto client = make(options());
  std::vector<StreamEvent> events;
  auto status = client->next_batch({}, events);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.kind(), core::ErrorKind::kFatal);
}

TEST_F(CometdClientTest, ShouldBackOffAndRetryWhenServerIsBusy) {
  server.queue(
      "/meta/handshake",
      json_response(
          200,
          R"([{"channel":"/meta/handshake","successful":false,"error":"403::Handshake denied","ext":{"sfdc":{"failureReason":"503::Server is too busy"}}}])"));
  server.queue(
      "/meta/connect",
      json_response(
          200,
          R"([{"channel":"/meta/connect","successful":false,"error":"503::Server is too busy"}])"));
  auto client = make(options());
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_EQ(server.count("/meta/handshake"), 2);
  EXPECT_EQ(server.count("/meta/connect"), 2);
  EXPECT_TRUE(tokens.refreshed_generations.empty());
  EXPECT_EQ(counter("sfkb_cometd_reconnects_total"), 1u);
  EXPECT_EQ(counter("sfkb_cometd_rehandshakes_total"), 0u);
}

// A connect whose reply never arrived whole may have carried events that the
// server already took off the queue; only a new session replaying from the last acknowledged
// replay ID gets them back.
TEST_F(CometdClientTest, ShouldRehandshakeFromTheLastAcknowledgedEventAfterANetworkErrorOnConnect) {
  auto client = make(options());
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  acknowledged[kA] = 41;
  server.queue("/meta/connect", core::retry_error("POST https://x/cometd/62.0: transfer closed "
                                                  "with 1234 bytes remaining to read"));
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_EQ(server.count("/meta/handshake"), 2);
  ASSERT_EQ(server.subscribes.size(), 4u);
  EXPECT_EQ(server.subscribes[2].replay, (std::map<std::string, std::int64_t>{{kA, 41}}));
  EXPECT_EQ(server.subscribes[3].replay, (std::map<std::string, std::int64_t>{{kB, -2}}));
  EXPECT_EQ(
      counter("sfkb_cometd_lost_replies_total", {{"exchange", "connect"}, {"reason", "transport"}}),
      1u);
  EXPECT_EQ(counter("sfkb_http_requests_total", {{"endpoint", "connect"}, {"status", "error"}}),
            1u);
}

// "Resubscribes every channel from its last acknowledged replay ID" assumes there is one. kA
// subscribes with start -1 (new events only) and nothing of it is acknowledged yet; the connect
// reply that carried its first events is cut. The new session subscribes kA from -1 again, which
// asks only for events published after the new subscription: the events of the lost reply are never
// delivered again (the same holds after an on_invalid_replay_id=latest fallback, whose watermark is
// -1 until the first acknowledgement).
TEST_F(CometdClientTest,
       ShouldNotResubscribeFromLatestAfterLosingAReplyOfAChannelWithoutAPosition) {
  auto client = make(options());
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  ASSERT_EQ(server.subscribes[0].replay, (std::map<std::string, std::int64_t>{{kA, -1}}));
  server.queue("/meta/connect", core::retry_error("POST https://x/cometd/62.0: transfer closed "
                                                  "with 1234 bytes remaining to read"));
  ASSERT_TRUE(client->next_batch({}, events));
  ASSERT_EQ(server.subscribes.size(), 4u);
  ASSERT_EQ(server.subscribes[2].subscription, kA);
  // -1 again would skip whatever the lost reply carried for kA; -2 replays it (the pipeline's
  // duplicate filter drops what it already produced).
  EXPECT_EQ(server.subscribes[2].replay.at(kA), -2);
}

TEST_F(CometdClientTest, ShouldRehandshakeAfterAnUndecodableConnectReply) {
  auto client = make(options());
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  acknowledged[kA] = 7;
  server.queue("/meta/connect",
               json_response(200, "[" + event_json(kA, 8) + ",{garbage]"));  // not JSON
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_EQ(server.count("/meta/handshake"), 2);
  ASSERT_GE(server.subscribes.size(), 3u);
  EXPECT_EQ(server.subscribes[2].replay, (std::map<std::string, std::int64_t>{{kA, 7}}));
  EXPECT_EQ(counter("sfkb_cometd_lost_replies_total",
                    {{"exchange", "connect"}, {"reason", "undecodable"}}),
            1u);
  EXPECT_EQ(counter("sfkb_malformed_messages_total"), 1u);
}

TEST_F(CometdClientTest, ShouldRehandshakeAfterAConnectReplyWithoutItsMetaMessage) {
  auto client = make(options());
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  server.queue("/meta/connect", json_response(200, "[" + event_json(kA, 8) + "]"));
  events.clear();
  ASSERT_TRUE(client->next_batch({}, events));
  ASSERT_EQ(events.size(), 1u) << "the events that did arrive are delivered";
  EXPECT_EQ(events[0].replay_id, core::ReplayId::cometd(8));
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_EQ(server.count("/meta/handshake"), 2);
  EXPECT_EQ(counter("sfkb_cometd_lost_replies_total",
                    {{"exchange", "connect"}, {"reason", "no_meta_reply"}}),
            1u);
}

TEST_F(CometdClientTest, ShouldRehandshakeAfterAGatewayErrorOnConnect) {
  auto client = make(options());
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  server.queue("/meta/connect", json_response(504, "<html>gateway timeout</html>"));
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_EQ(server.count("/meta/handshake"), 2);
}

TEST_F(CometdClientTest, ShouldRehandshakeWhenASubscribeReplyIsLostAfterAnotherChannelSubscribed) {
  server.queue(
      "/meta/subscribe",
      json_response(
          200,
          R"([{"channel":"/meta/subscribe","successful":true,"subscription":"/event/Alpha__e"}])"));
  server.queue("/meta/subscribe", core::retry_error("POST https://x/cometd/62.0: reset"));
  auto client = make(options());
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_EQ(server.count("/meta/handshake"), 2);
  EXPECT_EQ(counter("sfkb_cometd_lost_replies_total",
                    {{"exchange", "subscribe"}, {"reason", "transport"}}),
            1u);
}

// A CometD server that disconnects a client answers its pending connect with success and
// advice.reconnect "none" (seen against the reference CometD Java server, tests/conformance/).
TEST_F(CometdClientTest, ShouldHandshakeAgainWhenASuccessfulConnectAdvisesNoReconnect) {
  auto client = make(options());
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  server.queue("/meta/connect",
               json_response(200, "[" + event_json(kA, 4) +
                                      R"(,{"channel":"/meta/connect","successful":true,)"
                                      R"("advice":{"reconnect":"none"}}])"));
  events.clear();
  ASSERT_TRUE(client->next_batch({}, events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_EQ(server.count("/meta/handshake"), 2);
  EXPECT_EQ(server.count("/meta/connect"), 3);
}

TEST_F(CometdClientTest, ShouldCollectEventsFromSubscribeReplies) {
  server.queue("/meta/subscribe",
               json_response(200, "[" + event_json(kA, 3) +
                                      R"(,{"channel":"/meta/subscribe","successful":true,)"
                                      R"("subscription":"/event/Alpha__e"}])"));
  auto client = make(options());
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].channel, kA);
  EXPECT_EQ(events[0].replay_id, core::ReplayId::cometd(3));
}

http::Response invalid_replay(const std::string& channel, std::int64_t id) {
  return json_response(
      200,
      R"([{"channel":"/meta/subscribe","successful":false,"subscription":")" + channel +
          R"(","error":"400::The replayId {)" + std::to_string(id) +
          R"(} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events."}])");
}

TEST_F(CometdClientTest, ShouldFallBackToEarliestOnInvalidReplayId) {
  acknowledged[kA] = 3;
  server.queue("/meta/subscribe", invalid_replay(kA, 3));
  auto client = make(options(config::InvalidReplayPolicy::kEarliest));
  std::vector<StreamEvent> events;
  // The batch returns at once with the restart, before any event of the new subscription.
  ASSERT_TRUE(client->next_batch({}, events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].channel, kA);
  ASSERT_TRUE(events[0].restart.has_value());
  EXPECT_EQ(events[0].restart->refused_replay_id, core::ReplayId::cometd(3));
  EXPECT_EQ(events[0].restart->fallback, core::ReplayId::cometd(-2));
  events.clear();
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_TRUE(events.empty());
  ASSERT_EQ(server.subscribes.size(), 3u);
  EXPECT_EQ(server.subscribes[0].replay, (std::map<std::string, std::int64_t>{{kA, 3}}));
  EXPECT_EQ(server.subscribes[1].replay, (std::map<std::string, std::int64_t>{{kA, -2}}));
  EXPECT_EQ(server.subscribes[2].replay, (std::map<std::string, std::int64_t>{{kB, -2}}));
  EXPECT_EQ(counter("sfkb_invalid_replay_fallbacks_total", {{"channel", kA}}), 1u);
  EXPECT_EQ(counter("sfkb_invalid_replay_fallbacks_total", {{"channel", kB}}), 0u);
}

TEST_F(CometdClientTest, ShouldFallBackToLatestOnInvalidReplayIdWhenConfigured) {
  acknowledged[kB] = 9;
  server.queue(
      "/meta/subscribe",
      json_response(
          200,
          R"([{"channel":"/meta/subscribe","successful":true,"subscription":"/event/Alpha__e"}])"));
  server.queue("/meta/subscribe", invalid_replay(kB, 9));
  auto client = make(options(config::InvalidReplayPolicy::kLatest));
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].restart.has_value());
  EXPECT_EQ(events[0].channel, kB);
  EXPECT_EQ(events[0].restart->fallback, core::ReplayId::cometd(-1));
  ASSERT_TRUE(client->next_batch({}, events));
  ASSERT_EQ(server.subscribes.size(), 3u);
  EXPECT_EQ(server.subscribes[2].replay, (std::map<std::string, std::int64_t>{{kB, -1}}));
  EXPECT_EQ(counter("sfkb_invalid_replay_fallbacks_total", {{"channel", kB}}), 1u);
  EXPECT_EQ(server.count("/meta/connect"), 1);
}

TEST_F(CometdClientTest, ShouldStopOnInvalidReplayIdUnderPolicyFail) {
  acknowledged[kA] = 3;
  server.queue("/meta/subscribe", invalid_replay(kA, 3));
  auto client = make(options(config::InvalidReplayPolicy::kFail));
  std::vector<StreamEvent> events;
  auto status = client->next_batch({}, events);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.kind(), core::ErrorKind::kFatal);
  EXPECT_NE(status.message().find(kA), std::string::npos);
  EXPECT_EQ(server.count("/meta/connect"), 0);
  EXPECT_EQ(counter("sfkb_invalid_replay_fallbacks_total", {{"channel", kA}}), 1u);
}

TEST_F(CometdClientTest, ShouldRestartEveryResumedChannelWhenTheOrgChanges) {
  tokens.org_id = "00DAAAAAAAAAAAAAAA";
  acknowledged[kA] = 5;
  auto client = make(options(config::InvalidReplayPolicy::kEarliest));
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_TRUE(events.empty());
  // A sandbox refresh: the token is refused, and the new one belongs to another org.
  tokens.org_id = "00DBBBBBBBBBBBBBBB";
  server.queue("/meta/connect",
               json_response(200, R"([{"channel":"/meta/connect","successful":false,)"
                                  R"("error":"401::Authentication invalid",)"
                                  R"("advice":{"reconnect":"none"}}])"));
  ASSERT_TRUE(client->next_batch({}, events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].channel, kA);
  ASSERT_TRUE(events[0].restart.has_value());
  EXPECT_EQ(events[0].restart->refused_replay_id, core::ReplayId::cometd(5));
  EXPECT_EQ(events[0].restart->org_id, "00DBBBBBBBBBBBBBBB");
  EXPECT_EQ(events[0].restart->previous_org_id, "00DAAAAAAAAAAAAAAA");
  events.clear();
  ASSERT_TRUE(client->next_batch({}, events));
  // kB had no resume point, so nothing of the old org to void; the pipeline still learns the new
  // org, in order with the events, so that kB's records and checkpoint name it.
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].channel, kB);
  ASSERT_TRUE(events[0].restart.has_value());
  EXPECT_EQ(events[0].restart->fallback, core::ReplayId::cometd(-2));
  EXPECT_EQ(events[0].restart->org_id, "00DBBBBBBBBBBBBBBB");
  EXPECT_EQ(server.subscribes.back().replay, (std::map<std::string, std::int64_t>{{kB, -2}}));
  EXPECT_EQ(server.subscribes[server.subscribes.size() - 2].replay,
            (std::map<std::string, std::int64_t>{{kA, -2}}));
  EXPECT_EQ(counter("sfkb_invalid_replay_fallbacks_total", {{"channel", kA}}), 1u);
}

TEST_F(CometdClientTest, ShouldSkipEventsOfChannelsNotSubscribed) {
  auto client = make(options());
  server.queue(
      "/meta/connect",
      json_response(200, connect_ok({event_json("/event/Other__e", 1), event_json(kA, 2)})));
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].channel, kA);
  EXPECT_EQ(counter("sfkb_unexpected_channel_events_total", {{"channel", "/event/Other__e"}}), 1u);
}

TEST_F(CometdClientTest, ShouldSkipAMalformedMessageAndKeepTheSession) {
  auto client = make(options());
  const std::string bad =
      R"({"channel":"/event/Alpha__e","data":{"payload":{},"event":{"replayId":"x"}}})";
  server.queue("/meta/connect", json_response(200, connect_ok({bad, event_json(kA, 2)})));
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].replay_id, core::ReplayId::cometd(2));
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_EQ(counter("sfkb_malformed_messages_total"), 1u);
  EXPECT_EQ(server.count("/meta/handshake"), 1);
  EXPECT_EQ(server.count("/meta/connect"), 2);
}

TEST_F(CometdClientTest, ShouldWaitLongAndCountWhenDailyLimitIsExceeded) {
  auto client = make(options());
  server.queue(
      "/meta/connect",
      json_response(
          200,
          R"([{"channel":"/meta/connect","successful":false,"error":"403::Organization total events daily limit exceeded"}])"));
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_EQ(counter("sfkb_daily_limit_exceeded_total"), 1u);
  EXPECT_EQ(server.count("/meta/handshake"), 2);
}

// The daily delivery limit can come on /meta/subscribe as well (docs/SALESFORCE_PROTOCOL.md).
TEST_F(CometdClientTest, ShouldWaitLongAndCountWhenDailyLimitComesOnSubscribe) {
  server.queue(
      "/meta/subscribe",
      json_response(
          200,
          R"([{"channel":"/meta/subscribe","successful":false,"subscription":"/event/Alpha__e",)"
          R"("error":"403::Organization total events daily limit exceeded",)"
          R"("advice":{"reconnect":"retry","interval":0}}])"));
  auto client = make(options());
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  EXPECT_EQ(counter("sfkb_daily_limit_exceeded_total"), 1u);
  EXPECT_EQ(server.count("/meta/handshake"), 2);
  EXPECT_EQ(server.count("/meta/connect"), 1);
}

TEST_F(CometdClientTest, ShouldReturnStoppedWhenStopIsRequested) {
  auto client = make(options());
  std::stop_source stop;
  stop.request_stop();
  std::vector<StreamEvent> events;
  auto status = client->next_batch(stop.get_token(), events);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.kind(), core::ErrorKind::kStopped);
}

TEST_F(CometdClientTest, ShouldReturnStoppedDuringABackoffWait) {
  auto o = options();
  o.retry.initial_backoff = 60s;
  o.retry.max_backoff = 60s;
  auto client = make(o);
  std::stop_source stop;
  std::promise<void> failed;
  std::once_flag once;
  server.fake->set_handler([&](const http::Request&) -> core::Result<http::Response> {
    std::call_once(once, [&] { failed.set_value(); });
    return core::retry_error("network down");
  });
  // The stop arrives from another thread while the client waits out its 60 s backoff.
  std::thread stopper([&] {
    failed.get_future().wait();
    stop.request_stop();
  });
  std::vector<StreamEvent> events;
  const auto started = std::chrono::steady_clock::now();
  auto status = client->next_batch(stop.get_token(), events);
  stopper.join();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.kind(), core::ErrorKind::kStopped);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(CometdClientTest, ShouldSendDisconnectWithClientId) {
  auto client = make(options());
  std::vector<StreamEvent> events;
  ASSERT_TRUE(client->next_batch({}, events));
  client->disconnect();
  EXPECT_EQ(server.channels.back(), "/meta/disconnect");
  EXPECT_FALSE(client->connected());
  EXPECT_LE(server.timeouts["/meta/disconnect"], 2000ms);
}

}  // namespace
}  // namespace sfkb::salesforce
