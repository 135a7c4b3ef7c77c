// The emulator against what real CometD clients (aiocometd/aiosfstream, the CometD Java client,
// jsforce/Faye) send: the long-poll rules of a CometD server, events on any reply, the
// Authorization scheme, the daily limit on subscribe, and Bayeux 1.0 message forms.
//
// "At once" is checked against a long poll of 60 s: a reply must come within kPrompt, and the
// client gives up after kClientTimeout, so a held connect fails the test instead of hanging it.

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "json_util.h"
#include "test_support.h"

namespace sfkb::emulator::test {
namespace {

using std::chrono::steady_clock;

constexpr const char* kChannel = "/event/Test_Event__e";
constexpr const char* kOther = "/event/Other__e";
constexpr const char* kPrime = "/event/Prime__e";
constexpr auto kPrompt = std::chrono::seconds(5);
constexpr auto kClientTimeout = std::chrono::seconds(10);

EmulatorProcess::Options long_poll_options() {
  return with_args({"--connect-timeout-ms", "60000", "--reconnect-window-ms", "30000"});
}

// The reply message of `channel` in a response (events have no `successful`).
const rapidjson::Value* reply_for(const rapidjson::Document& doc, const std::string& channel) {
  if (!doc.IsArray()) {
    return nullptr;
  }
  for (const auto& m : doc.GetArray()) {
    if (str(m, "channel") == channel && m.HasMember("successful")) {
      return &m;
    }
  }
  return nullptr;
}

class BayeuxClientsTest : public ::testing::Test {
 protected:
  BayeuxClientsTest() { bayeux_.http().set_read_timeout(kClientTimeout); }

  // Posts `body` and expects the response well before the long poll would end.
  rapidjson::Document prompt(const std::string& body) {
    auto started = steady_clock::now();
    auto res = bayeux_.post(body);
    auto elapsed = steady_clock::now() - started;
    EXPECT_TRUE(res) << "no response within " << kClientTimeout.count() << " s: held? " << body;
    EXPECT_LT(elapsed, kPrompt) << body;
    rapidjson::Document doc;
    if (res) {
      EXPECT_EQ(res->status, 200) << res->body;
      doc = parse(res->body);
    }
    return doc;
  }

  std::string connect_msg(const std::string& extra = "") const {
    return R"({"channel":"/meta/connect","clientId":")" + bayeux_.client_id() +
           R"(","connectionType":"long-polling")" + extra + R"(,"id":"5"})";
  }

  std::string subscribe_msg(const std::string& subscription_json,
                            const std::string& replay_map = "") const {
    std::string ext = replay_map.empty() ? "" : R"(,"ext":{"replay":)" + replay_map + "}";
    return R"({"channel":"/meta/subscribe","clientId":")" + bayeux_.client_id() +
           R"(","subscription":)" + subscription_json + ext + R"(,"id":"6"})";
  }

  // Makes the client connected (its first connect after the handshake done) without relying on
  // the first-connect rule, so that each test isolates one rule: an event of a channel of its
  // own is queued, so even a held connect returns at once, with that event.
  void become_connected() {
    sf_.inject(kPrime, 1);  // makes the channel subscribable
    ASSERT_TRUE(bayeux_.subscribe(kPrime, -1)[0]["successful"].GetBool());
    sf_.inject(kPrime, 1);
    auto doc = prompt("[" + connect_msg() + "]");
    const auto* connect = reply_for(doc, "/meta/connect");
    ASSERT_NE(connect, nullptr);
    ASSERT_TRUE((*connect)["successful"].GetBool());
    ASSERT_EQ(events_of(doc).size(), 1u);
  }

  // Waits (bounded) until the emulator holds `n` long polls.
  bool wait_held(int n) {
    auto deadline = steady_clock::now() + std::chrono::seconds(10);
    while (steady_clock::now() < deadline) {
      if (sf_.stat("connects_in_flight") == n) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a condition
    }
    return false;
  }

  EmulatorProcess sf_{long_poll_options()};
  Bayeux bayeux_{sf_, sf_.static_token()};
};

// --- 1. Long-poll rules ----------------------------------------------------------------------

TEST_F(BayeuxClientsTest, FirstConnectAfterHandshakeIsAnsweredAtOnceThenConnectsAreHeld) {
  // aiocometd waits for this first reply before it subscribes anything.
  bayeux_.handshake();
  auto doc = prompt("[" + connect_msg() + "]");
  const auto* connect = reply_for(doc, "/meta/connect");
  ASSERT_NE(connect, nullptr);
  EXPECT_TRUE((*connect)["successful"].GetBool());
  EXPECT_EQ((*connect)["advice"]["timeout"].GetInt(), 60000);
  EXPECT_EQ(str(*connect, "id"), "5");

  ASSERT_TRUE(bayeux_.subscribe(kChannel, -1)[0]["successful"].GetBool());
  auto held = std::async(std::launch::async, [&] { return bayeux_.connect(); });
  ASSERT_TRUE(wait_held(1)) << "the second connect, alone in its request, must be held";
  sf_.inject(kChannel, 1);
  ASSERT_EQ(held.wait_for(kPrompt), std::future_status::ready);
  EXPECT_EQ(events_of(held.get()).size(), 1u);
}

TEST_F(BayeuxClientsTest, ConnectBatchedWithSubscribeIsAnsweredAtOnceWithTheReplayedEvents) {
  // The shape aiocometd re-sends after a re-handshake and Faye (jsforce) batches: [connect,
  // subscribe] in one POST. The subscribe's replayed events come back in the same response.
  sf_.inject(kChannel, 3, R"({"Text__c":"r{seq}"})");
  bayeux_.handshake();
  ASSERT_NO_FATAL_FAILURE(become_connected());
  auto doc = prompt("[" + connect_msg() + "," +
                    subscribe_msg(json_quoted(kChannel), R"({"/event/Test_Event__e":-2})") + "]");
  const auto* connect = reply_for(doc, "/meta/connect");
  const auto* subscribe = reply_for(doc, "/meta/subscribe");
  ASSERT_NE(connect, nullptr);
  ASSERT_NE(subscribe, nullptr);
  EXPECT_TRUE((*connect)["successful"].GetBool());
  EXPECT_TRUE((*subscribe)["successful"].GetBool());
  EXPECT_EQ(str(*subscribe, "id"), "6");
  EXPECT_EQ(str(*subscribe, "subscription"), kChannel);
  auto events = events_of(doc);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(str((*events[0])["data"]["payload"], "Text__c"), "r0");
  EXPECT_EQ(str((*events[2])["data"]["payload"], "Text__c"), "r2");
  EXPECT_EQ(sf_.stat("events_delivered"), 1 + 3);  // become_connected's event, then these
}

TEST_F(BayeuxClientsTest, ConnectBatchedAfterSubscribeIsAnsweredAtOnce) {
  bayeux_.handshake();
  ASSERT_NO_FATAL_FAILURE(become_connected());
  auto doc = prompt("[" + subscribe_msg(json_quoted(kChannel)) + "," + connect_msg() + "]");
  ASSERT_NE(reply_for(doc, "/meta/connect"), nullptr);
  EXPECT_TRUE((*reply_for(doc, "/meta/connect"))["successful"].GetBool());
  EXPECT_TRUE((*reply_for(doc, "/meta/subscribe"))["successful"].GetBool());
  EXPECT_EQ(sf_.stat("connects_in_flight"), 0);
}

TEST_F(BayeuxClientsTest, ConnectWithAdviceTimeoutZeroIsAnsweredAtOnce) {
  // The CometD Java client sends advice.timeout 0 on its first connect; any connect may.
  bayeux_.handshake();
  bayeux_.subscribe(kChannel, -1);
  ASSERT_NO_FATAL_FAILURE(become_connected());
  auto doc = prompt("[" + connect_msg(R"(,"advice":{"timeout":0})") + "]");
  const auto* connect = reply_for(doc, "/meta/connect");
  ASSERT_NE(connect, nullptr);
  EXPECT_TRUE((*connect)["successful"].GetBool());
  EXPECT_TRUE(events_of(doc).empty());
}

TEST_F(BayeuxClientsTest, AdvisedTimeoutShortensTheHold) {
  bayeux_.handshake();
  bayeux_.subscribe(kChannel, -1);
  ASSERT_NO_FATAL_FAILURE(become_connected());
  auto started = steady_clock::now();
  auto doc = prompt("[" + connect_msg(R"(,"advice":{"timeout":300,"interval":0})") + "]");
  EXPECT_GE(steady_clock::now() - started, std::chrono::milliseconds(300));
  ASSERT_NE(reply_for(doc, "/meta/connect"), nullptr);
  EXPECT_TRUE((*reply_for(doc, "/meta/connect"))["successful"].GetBool());
}

// --- 2. Events on any reply ------------------------------------------------------------------

TEST_F(BayeuxClientsTest, QueuedEventsRideOnASubscribeReplyWhenSwitchedOn) {
  sf_.inject(kOther, 1);  // makes the channel subscribable
  auto state = parse(sf_.faults(R"({"deliver_on_any_reply":true})"));
  EXPECT_TRUE(state["deliver_on_any_reply"].GetBool());
  bayeux_.handshake();
  ASSERT_TRUE(bayeux_.subscribe(kChannel, -1)[0]["successful"].GetBool());
  sf_.inject(kChannel, 2, R"({"Text__c":"q{seq}"})");

  auto doc = prompt("[" + subscribe_msg(json_quoted(kOther)) + "]");
  ASSERT_NE(reply_for(doc, "/meta/subscribe"), nullptr);
  EXPECT_TRUE((*reply_for(doc, "/meta/subscribe"))["successful"].GetBool());
  auto events = events_of(doc);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(str(*events[0], "channel"), kChannel);
  EXPECT_EQ(str((*events[1])["data"]["payload"], "Text__c"), "q1");

  // Written into a reply, they are gone from the client's queue.
  auto next = prompt("[" + connect_msg() + "]");
  EXPECT_TRUE(events_of(next).empty());
  EXPECT_EQ(sf_.stat("events_delivered"), 2);
}

TEST_F(BayeuxClientsTest, SubscribeRepliesCarryNoEventsByDefault) {
  sf_.inject(kOther, 1);
  bayeux_.handshake();
  bayeux_.subscribe(kChannel, -1);
  sf_.inject(kChannel, 2);
  EXPECT_TRUE(events_of(bayeux_.subscribe(kOther, -1)).empty());
  EXPECT_EQ(events_of(prompt("[" + connect_msg() + "]")).size(), 2u);
}

TEST(BayeuxClientsOptionsTest, DeliverOnAnyReplyFlagIsTheFaultsInitialValueAndSurvivesReset) {
  EmulatorProcess sf(with_args({"--deliver-on-any-reply"}));
  EXPECT_TRUE(parse(sf.stats())["faults"]["deliver_on_any_reply"].GetBool());
  sf.reset();
  EXPECT_TRUE(parse(sf.stats())["faults"]["deliver_on_any_reply"].GetBool());
  EXPECT_FALSE(
      parse(sf.faults(R"({"deliver_on_any_reply":false})"))["deliver_on_any_reply"].GetBool());
  EmulatorProcess plain;
  EXPECT_FALSE(parse(plain.stats())["faults"]["deliver_on_any_reply"].GetBool());
}

// --- 3. Authorization scheme -----------------------------------------------------------------

TEST_F(BayeuxClientsTest, AuthorizationSchemeIsCaseInsensitiveOnCometdAndRest) {
  auto http = client_for(sf_);
  for (const char* scheme : {"Bearer", "bearer", "BEARER", "OAuth", "oauth"}) {
    Bayeux client(sf_, sf_.static_token());
    client.set_auth_scheme(scheme);
    auto hs = client.handshake();
    ASSERT_TRUE(hs.IsArray()) << scheme;
    EXPECT_TRUE(hs[0]["successful"].GetBool()) << scheme;
    EXPECT_TRUE(client.subscribe(kChannel, -1)[0]["successful"].GetBool()) << scheme;

    httplib::Headers headers{{"Authorization", std::string(scheme) + " " + sf_.static_token()}};
    auto res = http.Post("/services/data/v62.0/sobjects/Test_Event__e/", headers,
                         R"({"Text__c":"auth"})", "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 201) << scheme << ": " << res->body;
  }
  // Another scheme is no authentication at all.
  Bayeux basic(sf_, sf_.static_token());
  basic.set_auth_scheme("Basic");
  auto res = basic.post(R"([{"channel":"/meta/handshake","id":"1"}])");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
}

// --- 4. Daily limit on subscribe -------------------------------------------------------------

TEST_F(BayeuxClientsTest, DailyLimitFaultFailsTheNextSubscribesLikeConnects) {
  bayeux_.handshake();
  auto state = parse(sf_.faults(R"({"daily_limit_next_subscribes":1})"));
  EXPECT_EQ(state["daily_limit_next_subscribes"].GetInt(), 1);
  auto reply = bayeux_.subscribe(kChannel, -1);
  const auto& m = reply[0];
  EXPECT_FALSE(m["successful"].GetBool());
  EXPECT_EQ(str(m, "error"), "403::Organization total events daily limit exceeded");
  EXPECT_EQ(str(m["ext"]["sfdc"], "failureReason"),
            "403::Organization total events daily limit exceeded");
  EXPECT_EQ(str(m["advice"], "reconnect"), "retry");
  EXPECT_EQ(str(m, "subscription"), kChannel);  // aiocometd reads it from every subscribe reply
  EXPECT_EQ(str(m, "id"), "3");
  // The connect variant has the same error shape.
  sf_.faults(R"({"daily_limit_next_connects":1})");
  auto connect = bayeux_.connect();
  EXPECT_EQ(str(connect[0], "error"), str(m, "error"));
  EXPECT_EQ(str(connect[0]["ext"]["sfdc"], "failureReason"),
            str(m["ext"]["sfdc"], "failureReason"));
  // Only the next one.
  EXPECT_TRUE(bayeux_.subscribe(kChannel, -1)[0]["successful"].GetBool());
  EXPECT_EQ(parse(sf_.stats())["faults"]["daily_limit_next_subscribes"].GetInt(), 0);
}

// --- 5. Bayeux 1.0 message forms -------------------------------------------------------------

TEST_F(BayeuxClientsTest, HandshakeWithExtMinimumVersionAndNumericIdEchoesTheId) {
  // CometD Java (EMP-Connector) announces the replay extension; aiocometd sends minimumVersion.
  auto res = bayeux_.post(R"([{"channel":"/meta/handshake","version":"1.0","minimumVersion":"1.0",)"
                          R"("supportedConnectionTypes":["websocket","long-polling"],)"
                          R"("ext":{"replay":true,"payload.format":true},"id":7}])",
                          false);
  ASSERT_TRUE(res);
  auto doc = parse(res->body);
  ASSERT_TRUE(doc.IsArray());
  EXPECT_TRUE(doc[0]["successful"].GetBool());
  ASSERT_TRUE(doc[0]["id"].IsInt());
  EXPECT_EQ(doc[0]["id"].GetInt(), 7);
}

TEST_F(BayeuxClientsTest, SubscriptionArraySubscribesAndUnsubscribesEveryChannel) {
  sf_.inject(kOther, 1);
  bayeux_.handshake();
  ASSERT_NO_FATAL_FAILURE(become_connected());
  const std::string both = R"(["/event/Test_Event__e","/event/Other__e"])";
  auto doc = prompt(
      "[" + subscribe_msg(both, R"({"/event/Test_Event__e":-1,"/event/Other__e":-1})") + "]");
  const auto* sub = reply_for(doc, "/meta/subscribe");
  ASSERT_NE(sub, nullptr);
  EXPECT_TRUE((*sub)["successful"].GetBool()) << str(*sub, "error");
  ASSERT_TRUE((*sub)["subscription"].IsArray());
  EXPECT_EQ((*sub)["subscription"].Size(), 2u);

  sf_.inject(kChannel, 1);
  sf_.inject(kOther, 1);
  EXPECT_EQ(events_of(prompt("[" + connect_msg() + "]")).size(), 2u);

  auto unsub = prompt(R"([{"channel":"/meta/unsubscribe","clientId":")" + bayeux_.client_id() +
                      R"(","subscription":)" + both + R"(,"id":"8"}])");
  ASSERT_NE(reply_for(unsub, "/meta/unsubscribe"), nullptr);
  EXPECT_TRUE((*reply_for(unsub, "/meta/unsubscribe"))["successful"].GetBool());
  sf_.inject(kChannel, 1);
  sf_.inject(kOther, 1);
  EXPECT_TRUE(events_of(prompt("[" + connect_msg(R"(,"advice":{"timeout":0})") + "]")).empty());
}

TEST_F(BayeuxClientsTest, SubscriptionArrayIsAllOrNone) {
  bayeux_.handshake();
  auto doc = prompt("[" + subscribe_msg(R"(["/event/Test_Event__e","/event/Nope__e"])") + "]");
  const auto* sub = reply_for(doc, "/meta/subscribe");
  ASSERT_NE(sub, nullptr);
  EXPECT_FALSE((*sub)["successful"].GetBool());
  EXPECT_EQ(str(*sub, "error"),
            "400::The channel you requested to subscribe to does not exist {/event/Nope__e}");
  // Test_Event__e was not subscribed either: its events do not arrive.
  sf_.inject(kChannel, 1);
  EXPECT_TRUE(events_of(prompt("[" + connect_msg() + "]")).empty());
}

TEST_F(BayeuxClientsTest, DisconnectEndsAHeldConnectWithReconnectNone) {
  bayeux_.handshake();
  bayeux_.subscribe(kChannel, -1);
  ASSERT_NO_FATAL_FAILURE(become_connected());
  auto held = std::async(std::launch::async, [&] { return bayeux_.connect(); });
  ASSERT_TRUE(wait_held(1));
  // The client disconnects on its second connection while the long poll waits.
  Bayeux other(sf_, sf_.static_token());
  other.set_client_id(bayeux_.client_id());
  other.set_cookie(bayeux_.cookie());
  auto res = other.post(R"([{"channel":"/meta/disconnect","clientId":")" + bayeux_.client_id() +
                        R"(","id":"9"}])");
  ASSERT_TRUE(res);
  EXPECT_TRUE(parse(res->body)[0]["successful"].GetBool());
  ASSERT_EQ(held.wait_for(kPrompt), std::future_status::ready);
  auto reply = held.get();
  const auto& connect = meta_reply(reply);
  // Not 403::Unknown client, which would make the client handshake again after its own
  // disconnect.
  EXPECT_TRUE(connect["successful"].GetBool()) << str(connect, "error");
  EXPECT_EQ(str(connect["advice"], "reconnect"), "none");
}

}  // namespace
}  // namespace sfkb::emulator::test
