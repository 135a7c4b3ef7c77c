// CometD endpoint on the wire: handshake, cookies, subscribe with replay, the long poll and the
// exact Salesforce error strings.

#include <gtest/gtest.h>

#include <future>
#include <regex>
#include <set>

#include "test_support.h"

namespace sfkb::emulator::test {
namespace {

constexpr const char* kChannel = "/event/Test_Event__e";

class CometdTest : public ::testing::Test {
 protected:
  // The window is generous so that a loaded machine cannot make the fixture's own pauses count.
  EmulatorProcess sf_{with_args({"--connect-timeout-ms", "1500", "--reconnect-window-ms", "5000"})};
  Bayeux bayeux_{sf_, sf_.static_token()};
};

TEST_F(CometdTest, HandshakeSetsBrowserCookieAndAdvertisesReplay) {
  auto res = bayeux_.post(
      R"([{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"id":"1"}])");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Set-Cookie").rfind("BAYEUX_BROWSER=", 0), 0u);
  EXPECT_NE(res->get_header_value("Content-Type").find("application/json"), std::string::npos);
  auto doc = parse(res->body);
  ASSERT_TRUE(doc.IsArray());
  const auto& m = doc[0];
  EXPECT_TRUE(m["successful"].GetBool());
  EXPECT_EQ(str(m, "channel"), "/meta/handshake");
  EXPECT_EQ(str(m, "id"), "1");
  EXPECT_EQ(str(m, "version"), "1.0");
  EXPECT_EQ(str(m, "minimumVersion"), "1.0");
  EXPECT_FALSE(str(m, "clientId").empty());
  EXPECT_EQ(std::string(m["supportedConnectionTypes"][0].GetString()), "long-polling");
  EXPECT_TRUE(m["ext"]["replay"].GetBool());
  EXPECT_TRUE(m["ext"]["payload.format"].GetBool());
}

TEST_F(CometdTest, ShouldDeliverInjectedEventsInSalesforceShape) {
  bayeux_.handshake();
  auto sub = bayeux_.subscribe(kChannel, -1);
  ASSERT_TRUE(sub[0]["successful"].GetBool());
  EXPECT_EQ(str(sub[0], "subscription"), kChannel);

  auto ids = sf_.inject(kChannel, 3, R"({"Text__c":"n-{seq}","Number__c":1.5})");
  auto reply = bayeux_.connect();
  auto events = events_of(reply);
  ASSERT_EQ(events.size(), 3u);
  long long previous = 0;
  std::set<std::string> uuids;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = *events[i];
    EXPECT_EQ(str(e, "channel"), kChannel);
    EXPECT_EQ(str(e["data"], "schema").size(), 22u);
    const auto& payload = e["data"]["payload"];
    EXPECT_EQ(str(payload, "Text__c"), "n-" + std::to_string(i));
    EXPECT_DOUBLE_EQ(payload["Number__c"].GetDouble(), 1.5);
    EXPECT_EQ(str(payload, "CreatedDate").size(), 24u);  // 2026-11-26T17:30:00.123Z
    EXPECT_EQ(str(payload, "CreatedDate").back(), 'Z');
    EXPECT_EQ(str(payload, "CreatedById").size(), 18u);
    std::string uuid = str(e["data"]["event"], "EventUuid");
    EXPECT_TRUE(std::regex_match(
        uuid, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
        << uuid;
    uuids.insert(uuid);
    long long replay = e["data"]["event"]["replayId"].GetInt64();
    EXPECT_GT(replay, previous);
    previous = replay;
  }
  EXPECT_EQ(uuids.size(), 3u);
  EXPECT_EQ(events.front()->operator[]("data")["event"]["replayId"].GetInt64(),
            ids.first_replay_id);
  EXPECT_EQ(previous, ids.last_replay_id);
  const auto& meta = meta_reply(reply);
  EXPECT_EQ(str(meta, "channel"), "/meta/connect");
  EXPECT_TRUE(meta["successful"].GetBool());
  EXPECT_EQ(meta["advice"]["timeout"].GetInt(), 1500);
  EXPECT_EQ(meta["advice"]["interval"].GetInt(), 0);
  EXPECT_EQ(str(meta["advice"], "reconnect"), "retry");
}

TEST(CometdOptionsTest, LongPollShouldReturnPromptlyWhenAnEventArrives) {
  EmulatorProcess sf(with_args({"--connect-timeout-ms", "20000"}));
  Bayeux bayeux(sf, sf.static_token());
  bayeux.handshake();
  bayeux.subscribe(kChannel, -1);
  bayeux.connect();  // the first connect after a handshake is answered at once, never held
  auto started = std::chrono::steady_clock::now();
  auto poll = std::async(std::launch::async, [&] { return bayeux.connect(); });
  // The connect must still be waiting: nothing was injected yet.
  EXPECT_EQ(poll.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  sf.inject(kChannel, 1, R"({"Text__c":"wake"})");
  ASSERT_EQ(poll.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto reply = poll.get();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  ASSERT_EQ(events_of(reply).size(), 1u);
  EXPECT_EQ(str((*events_of(reply)[0])["data"]["payload"], "Text__c"), "wake");
}

TEST(CometdOptionsTest, NewerConnectEndsAnAbandonedOneSoNoEventIsLost) {
  EmulatorProcess sf(with_args({"--connect-timeout-ms", "20000"}));
  Bayeux first(sf, sf.static_token());
  first.handshake();
  first.subscribe(kChannel, -1);
  first.connect();  // answered at once: the first after the handshake
  auto abandoned = std::async(std::launch::async, [&] { return first.connect(); });
  ASSERT_EQ(abandoned.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  // The same client connects again on another connection (as after a client-side timeout).
  Bayeux again(sf, sf.static_token());
  again.set_client_id(first.client_id());
  again.set_cookie(first.cookie());
  auto current = std::async(std::launch::async, [&] { return again.connect(); });
  ASSERT_EQ(abandoned.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(events_of(abandoned.get()).empty());
  sf.inject(kChannel, 1);
  ASSERT_EQ(current.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(events_of(current.get()).size(), 1u);
}

TEST_F(CometdTest, LongPollShouldReturnEmptyAfterConnectTimeout) {
  bayeux_.handshake();
  bayeux_.subscribe(kChannel, -1);
  bayeux_.connect();  // answered at once: the first after the handshake
  auto started = std::chrono::steady_clock::now();
  auto reply = bayeux_.connect();
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_GE(elapsed, std::chrono::milliseconds(1400));
  EXPECT_LT(elapsed, std::chrono::milliseconds(5000));
  ASSERT_EQ(reply.Size(), 1u);
  EXPECT_TRUE(meta_reply(reply)["successful"].GetBool());
}

TEST_F(CometdTest, ReplayMinusTwoDeliversRetainedAndNDeliversAfterN) {
  auto ids = sf_.inject(kChannel, 5, R"({"Text__c":"{seq}"})");
  bayeux_.handshake();
  bayeux_.subscribe(kChannel, -2);
  EXPECT_EQ(events_of(bayeux_.connect()).size(), 5u);

  // Replay from the second event's id: events 3..5 follow.
  Bayeux probe(sf_, sf_.static_token());
  probe.handshake();
  probe.subscribe(kChannel, -2);
  auto first_batch = probe.connect();
  auto events = events_of(first_batch);
  ASSERT_EQ(events.size(), 5u);
  long long second_id = (*events[1])["data"]["event"]["replayId"].GetInt64();
  Bayeux second(sf_, sf_.static_token());
  second.handshake();
  ASSERT_TRUE(second.subscribe(kChannel, second_id)[0]["successful"].GetBool());
  auto after = events_of(second.connect());
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(str((*after[0])["data"]["payload"], "Text__c"), "2");
  EXPECT_EQ((*after[2])["data"]["event"]["replayId"].GetInt64(), ids.last_replay_id);
}

TEST_F(CometdTest, ReplayIdsAreNotContiguous) {
  auto ids = sf_.inject(kChannel, 50);
  // 50 events with gaps of 1..5: contiguous ids would span exactly 49.
  EXPECT_GT(ids.last_replay_id - ids.first_replay_id, 49);
}

TEST_F(CometdTest, ReplayMinusOneDeliversOnlyNewEvents) {
  sf_.inject(kChannel, 2, R"({"Text__c":"old"})");
  bayeux_.handshake();
  bayeux_.subscribe(kChannel, -1);
  sf_.inject(kChannel, 1, R"({"Text__c":"new"})");
  auto events = events_of(bayeux_.connect());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(str((*events[0])["data"]["payload"], "Text__c"), "new");
}

TEST_F(CometdTest, SeveralChannelsPerClientEachInOrder) {
  sf_.inject("/event/Other__e", 1);  // an undefined channel becomes subscribable once it has events
  bayeux_.handshake();
  ASSERT_TRUE(bayeux_.subscribe(kChannel, -1)[0]["successful"].GetBool());
  ASSERT_TRUE(bayeux_.subscribe("/event/Other__e", -1)[0]["successful"].GetBool());
  sf_.inject(kChannel, 2, R"({"Text__c":"a{seq}"})");
  sf_.inject("/event/Other__e", 2, R"({"Text__c":"b{seq}"})");
  std::vector<std::string> a;
  std::vector<std::string> b;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((a.size() < 2 || b.size() < 2) && std::chrono::steady_clock::now() < deadline) {
    auto reply = bayeux_.connect();
    for (const auto* e : events_of(reply)) {
      (str(*e, "channel") == kChannel ? a : b).push_back(str((*e)["data"]["payload"], "Text__c"));
    }
  }
  EXPECT_EQ(a, (std::vector<std::string>{"a0", "a1"}));
  EXPECT_EQ(b, (std::vector<std::string>{"b0", "b1"}));
}

TEST_F(CometdTest, InvalidReplayIdGivesTheExactSalesforceError) {
  sf_.inject(kChannel, 3);
  bayeux_.handshake();
  auto reply = bayeux_.subscribe(kChannel, 999999);
  EXPECT_FALSE(reply[0]["successful"].GetBool());
  EXPECT_EQ(str(reply[0], "error"),
            "400::The replayId {999999} you provided was invalid.  Please provide a valid ID, -2 "
            "to replay all events, or -1 to replay only new events.");
}

TEST(CometdOptionsTest, ReplayIdOlderThanRetentionIsInvalid) {
  EmulatorProcess sf(with_args({"--retention", "3"}));
  auto old = sf.inject(kChannel, 1);
  sf.inject(kChannel, 3);  // pushes the first event out of the retained window
  Bayeux bayeux(sf, sf.static_token());
  bayeux.handshake();
  auto reply = bayeux.subscribe(kChannel, old.first_replay_id - 1);
  EXPECT_FALSE(reply[0]["successful"].GetBool());
  EXPECT_NE(str(reply[0], "error").find("you provided was invalid.  Please"), std::string::npos);
  // The dropped event's own id is still fine: nothing after it was lost.
  EXPECT_TRUE(bayeux.subscribe(kChannel, old.first_replay_id)[0]["successful"].GetBool());
  EXPECT_EQ(events_of(bayeux.connect()).size(), 3u);
}

TEST_F(CometdTest, RetentionFaultShrinksTheWindow) {
  auto first = sf_.inject(kChannel, 5);
  sf_.faults(R"({"retention":2})");
  bayeux_.handshake();
  EXPECT_FALSE(bayeux_.subscribe(kChannel, first.first_replay_id)[0]["successful"].GetBool());
  EXPECT_TRUE(bayeux_.subscribe(kChannel, -2)[0]["successful"].GetBool());
  EXPECT_EQ(events_of(bayeux_.connect()).size(), 2u);
}

TEST_F(CometdTest, ReplayMapKeyMustBeTheChannel) {
  bayeux_.handshake();
  auto reply = bayeux_.subscribe(kChannel, R"({"/event/Wrong__e":-1})");
  EXPECT_FALSE(reply[0]["successful"].GetBool());
  EXPECT_EQ(str(reply[0], "error"),
            "400::The replayId for channel {/event/Test_Event__e} wasn't found using the provided "
            "replay ID map");
}

TEST_F(CometdTest, UnknownChannelSubscriptionFails) {
  bayeux_.handshake();
  auto reply = bayeux_.subscribe("/event/Nope__e", -1);
  EXPECT_FALSE(reply[0]["successful"].GetBool());
  EXPECT_EQ(str(reply[0], "error"),
            "400::The channel you requested to subscribe to does not exist {/event/Nope__e}");
}

TEST_F(CometdTest, UnsubscribeStopsDelivery) {
  bayeux_.handshake();
  bayeux_.subscribe(kChannel, -1);
  auto res = bayeux_.post(R"([{"channel":"/meta/unsubscribe","clientId":")" + bayeux_.client_id() +
                          R"(","subscription":"/event/Test_Event__e","id":"9"}])");
  ASSERT_TRUE(res);
  auto doc = parse(res->body);
  EXPECT_TRUE(doc[0]["successful"].GetBool());
  sf_.inject(kChannel, 1);
  EXPECT_TRUE(events_of(bayeux_.connect()).empty());
}

TEST_F(CometdTest, MissingAuthorizationIs401) {
  Bayeux anonymous(sf_, "");
  auto res = anonymous.post(R"([{"channel":"/meta/handshake","id":"1"}])");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(str(parse(res->body)[0], "error"), "401::Request requires authentication");
}

TEST_F(CometdTest, InvalidTokenAtHandshakeIsHandshakeDenied) {
  Bayeux bad(sf_, "not-a-token");
  auto reply = bad.handshake();
  const auto& m = reply[0];
  EXPECT_FALSE(m["successful"].GetBool());
  EXPECT_EQ(str(m, "error"), "403::Handshake denied");
  EXPECT_EQ(str(m["ext"]["sfdc"], "failureReason"), "401::Authentication invalid");
}

TEST(CometdOptionsTest, ExpiredTokenOnConnectIs401WithReconnectNone) {
  // Token from the OAuth endpoint (the static token survives expire_tokens by design).
  EmulatorProcess sf(with_args({"--client-id", "cid", "--client-secret", "sec"}));
  auto http = client_for(sf);
  auto tok = http.Post("/services/oauth2/token",
                       "grant_type=client_credentials&client_id=cid&client_secret=sec",
                       "application/x-www-form-urlencoded");
  ASSERT_TRUE(tok);
  Bayeux bayeux(sf, str(parse(tok->body), "access_token"));
  bayeux.handshake();
  sf.faults(R"({"expire_tokens":true})");
  auto reply = bayeux.connect();
  EXPECT_FALSE(reply[0]["successful"].GetBool());
  EXPECT_EQ(str(reply[0], "error"), "401::Authentication invalid");
  EXPECT_EQ(str(reply[0]["advice"], "reconnect"), "none");
}

TEST(CometdOptionsTest, ExpireTokensEndsAWaitingLongPoll) {
  EmulatorProcess sf(
      with_args({"--connect-timeout-ms", "20000", "--client-id", "cid", "--client-secret", "sec"}));
  auto http = client_for(sf);
  auto tok = http.Post("/services/oauth2/token",
                       "grant_type=client_credentials&client_id=cid&client_secret=sec",
                       "application/x-www-form-urlencoded");
  ASSERT_TRUE(tok);
  Bayeux bayeux(sf, str(parse(tok->body), "access_token"));
  bayeux.handshake();
  bayeux.subscribe(kChannel, -1);
  bayeux.connect();  // answered at once: the first after the handshake
  auto poll = std::async(std::launch::async, [&] { return bayeux.connect(); });
  ASSERT_EQ(poll.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  sf.faults(R"({"expire_tokens":true})");
  ASSERT_EQ(poll.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(str(poll.get()[0], "error"), "401::Authentication invalid");
}

TEST_F(CometdTest, UnknownClientIdIs403WithReconnectHandshake) {
  bayeux_.handshake();
  bayeux_.set_client_id("doesnotexist");
  auto reply = bayeux_.connect();
  EXPECT_FALSE(reply[0]["successful"].GetBool());
  EXPECT_EQ(str(reply[0], "error"), "403::Unknown client");
  EXPECT_EQ(str(reply[0]["advice"], "reconnect"), "handshake");
}

TEST(CometdOptionsTest, ClientMissingTheReconnectWindowIsForgotten) {
  EmulatorProcess sf(with_args({"--reconnect-window-ms", "500"}));
  Bayeux bayeux(sf, sf.static_token());
  bayeux.handshake();
  bayeux.subscribe(kChannel, -1);
  sf.inject(kChannel, 1);
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(meta_reply(bayeux.connect())["successful"].GetBool());
  // Wait past the window, watching the server forget the session (stats sessions == 0).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (parse(sf.stats())["sessions"].GetInt() != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500));
  auto reply = bayeux.connect();
  EXPECT_EQ(str(reply[0], "error"), "403::Unknown client");
  EXPECT_EQ(str(reply[0]["advice"], "reconnect"), "handshake");
}

TEST_F(CometdTest, DropSessionsForcesRehandshake) {
  bayeux_.handshake();
  sf_.faults(R"({"drop_sessions":true})");
  EXPECT_EQ(str(bayeux_.connect()[0], "error"), "403::Unknown client");
}

TEST_F(CometdTest, MissingBrowserCookieIs400) {
  bayeux_.handshake();
  bayeux_.set_cookie("");
  auto res = bayeux_.connect_raw();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(str(parse(res->body)[0], "error"),
            "400::Client " + bayeux_.client_id() +
                " has established a session, but no BAYEUX_BROWSER cookie present");
}

TEST_F(CometdTest, BareObjectBodyIs400) {
  auto res = bayeux_.post(R"({"channel":"/meta/handshake","id":"1"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST_F(CometdTest, OversizedBodyIs413) {
  std::string big = R"([{"channel":"/meta/handshake","pad":")" + std::string(33000, 'x') + "\"}]";
  auto res = bayeux_.post(big);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_NE(res->body.find("Maximum Request Size Exceeded"), std::string::npos);
}

TEST_F(CometdTest, VersionIsMandatoryAndAtLeast37) {
  Bayeux none(sf_, sf_.static_token(), "");
  auto res = none.post("[]");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("API version in the URI is mandatory"), std::string::npos);
  Bayeux old(sf_, sf_.static_token(), "36.0");
  res = old.post(R"([{"channel":"/meta/handshake","id":"1"}])");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  Bayeux ok(sf_, sf_.static_token(), "37.0");
  EXPECT_TRUE(ok.handshake()[0]["successful"].GetBool());
}

TEST_F(CometdTest, OnlyLongPollingIsAccepted) {
  bayeux_.handshake();
  auto res = bayeux_.post(R"([{"channel":"/meta/connect","clientId":")" + bayeux_.client_id() +
                          R"(","connectionType":"websocket","id":"4"}])");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("Invalid connection type"), std::string::npos);
}

TEST_F(CometdTest, BusyFaultFailsConnectWithFailureReason) {
  bayeux_.handshake();
  sf_.faults(R"({"busy_next_connects":1})");
  auto reply = bayeux_.connect();
  EXPECT_FALSE(reply[0]["successful"].GetBool());
  EXPECT_EQ(str(reply[0]["ext"]["sfdc"], "failureReason"), "503::Server is too busy");
  EXPECT_EQ(str(reply[0]["advice"], "reconnect"), "retry");
  EXPECT_TRUE(meta_reply(bayeux_.connect())["successful"].GetBool());  // only the next one
}

TEST_F(CometdTest, DailyLimitFault) {
  bayeux_.handshake();
  sf_.faults(R"({"daily_limit_next_connects":1})");
  auto reply = bayeux_.connect();
  EXPECT_EQ(str(reply[0], "error"), "403::Organization total events daily limit exceeded");
}

TEST_F(CometdTest, GarbageFaultGivesANonJsonReply) {
  bayeux_.handshake();
  sf_.faults(R"({"garbage_next_connects":1})");
  auto res = bayeux_.connect_raw();
  ASSERT_TRUE(res);
  rapidjson::Document doc;
  doc.Parse(res->body.c_str());
  EXPECT_TRUE(doc.HasParseError());
}

TEST_F(CometdTest, CutFaultClosesAConnectReplyThatCarriesEventsMidBody) {
  bayeux_.handshake();
  bayeux_.subscribe(kChannel, -1);
  sf_.faults(R"({"cut_next_connects":{"count":1,"after_bytes":10}})");
  EXPECT_TRUE(meta_reply(bayeux_.connect())["successful"].GetBool())
      << "a reply without events is not cut";
  sf_.inject(kChannel, 3, R"({"Text__c":"x"})");
  auto res = bayeux_.connect_raw();
  EXPECT_FALSE(res) << "the client must see the transfer end early";
  EXPECT_EQ(sf_.stat("events_delivered"), 3) << "the events were taken off the queue";
}

TEST_F(CometdTest, ConnectReplyExtraInjectsRawMessages) {
  bayeux_.handshake();
  bayeux_.subscribe(kChannel, -1);
  sf_.faults(R"({"connect_reply_extra":[{"channel":"/event/Test_Event__e","data":{"oops":1}}]})");
  auto reply = bayeux_.connect();
  ASSERT_EQ(reply.Size(), 2u);
  EXPECT_EQ(reply[0]["data"]["oops"].GetInt(), 1);
}

TEST_F(CometdTest, DisconnectForgetsTheClient) {
  bayeux_.handshake();
  auto res = bayeux_.post(R"([{"channel":"/meta/disconnect","clientId":")" + bayeux_.client_id() +
                          R"(","id":"7"}])");
  ASSERT_TRUE(res);
  EXPECT_TRUE(parse(res->body)[0]["successful"].GetBool());
  EXPECT_EQ(str(bayeux_.connect()[0], "error"), "403::Unknown client");
}

TEST_F(CometdTest, LatencyFaultDelaysNonLongPollRequests) {
  sf_.faults(R"({"latency_ms":300})");
  auto started = std::chrono::steady_clock::now();
  bayeux_.handshake();
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(300));
}

TEST(CometdOptionsTest, BatchesAreCappedAndLoseNothing) {
  EmulatorProcess sf(with_args({"--max-batch-events", "100", "--connect-timeout-ms", "1000"}));
  Bayeux bayeux(sf, sf.static_token());
  bayeux.handshake();
  bayeux.subscribe(kChannel, -1);
  sf.inject(kChannel, 250, R"({"Text__c":"{seq}"})");
  std::vector<int> seen;
  std::size_t largest = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (seen.size() < 250 && std::chrono::steady_clock::now() < deadline) {
    auto events = events_of(bayeux.connect());
    largest = std::max(largest, events.size());
    for (const auto* e : events) {
      seen.push_back(std::stoi(str((*e)["data"]["payload"], "Text__c")));
    }
  }
  ASSERT_EQ(seen.size(), 250u);
  EXPECT_EQ(largest, 100u);
  for (int i = 0; i < 250; ++i) {
    EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
  }
}

}  // namespace
}  // namespace sfkb::emulator::test
