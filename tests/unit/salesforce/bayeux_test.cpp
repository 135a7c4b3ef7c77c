#include "daemon/salesforce/bayeux.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "daemon/core/redact.h"

namespace sfkb::salesforce::bayeux {
namespace {

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  EXPECT_FALSE(doc.HasParseError()) << body;
  return doc;
}

constexpr const char* kEvent =
    R"({"channel":"/event/Low_Ink__e",
        "data":{"schema":"dffQ2QLzDNHqwB8_sHMxdA",
                "payload":{"CreatedDate":"2026-11-26T17:30:00.123Z","CreatedById":"005xx000001SvQrAAK","Printer_Model__c":"XZO-5"},
                "event":{"EventUuid":"3b2d7c1e-9d1a-4b8e-8f21-5c0f1d2e3a4b","replayId":2}}})";

TEST(BayeuxRequests, ShouldBuildHandshakeAsArrayWithLongPolling) {
  RequestBuilder builder;
  auto doc = parse(builder.handshake());
  ASSERT_TRUE(doc.IsArray());
  ASSERT_EQ(doc.Size(), 1u);
  EXPECT_STREQ(doc[0]["channel"].GetString(), "/meta/handshake");
  EXPECT_STREQ(doc[0]["version"].GetString(), "1.0");
  EXPECT_STREQ(doc[0]["supportedConnectionTypes"][0].GetString(), "long-polling");
  EXPECT_STREQ(doc[0]["id"].GetString(), "1");
}

TEST(BayeuxRequests, ShouldKeyReplayMapExactlyByChannel) {
  RequestBuilder builder;
  builder.handshake();
  auto doc = parse(builder.subscribe("client-1", "/event/Low_Ink__e", -2));
  ASSERT_TRUE(doc.IsArray());
  const auto& message = doc[0];
  EXPECT_STREQ(message["channel"].GetString(), "/meta/subscribe");
  EXPECT_STREQ(message["clientId"].GetString(), "client-1");
  EXPECT_STREQ(message["subscription"].GetString(), "/event/Low_Ink__e");
  const auto& replay = message["ext"]["replay"];
  ASSERT_EQ(replay.MemberCount(), 1u);
  EXPECT_STREQ(replay.MemberBegin()->name.GetString(), "/event/Low_Ink__e");
  EXPECT_EQ(replay["/event/Low_Ink__e"].GetInt64(), -2);
  EXPECT_STREQ(message["id"].GetString(), "2");
}

TEST(BayeuxRequests, ShouldCarryLargeReplayIdsExactly) {
  RequestBuilder builder;
  auto doc = parse(builder.subscribe("c", "/event/X__e", 9007199254740993LL));
  EXPECT_EQ(doc[0]["ext"]["replay"]["/event/X__e"].GetInt64(), 9007199254740993LL);
}

TEST(BayeuxRequests, ShouldIncreaseIdsAcrossConnectAndDisconnect) {
  RequestBuilder builder;
  builder.handshake();
  auto connect = parse(builder.connect("abc"));
  auto disconnect = parse(builder.disconnect("abc"));
  EXPECT_STREQ(connect[0]["channel"].GetString(), "/meta/connect");
  EXPECT_STREQ(connect[0]["connectionType"].GetString(), "long-polling");
  EXPECT_STREQ(connect[0]["id"].GetString(), "2");
  EXPECT_STREQ(disconnect[0]["channel"].GetString(), "/meta/disconnect");
  EXPECT_STREQ(disconnect[0]["id"].GetString(), "3");
  EXPECT_EQ(builder.last_id(), 3u);
}

TEST(BayeuxDecode, ShouldDecodeHandshakeReply) {
  auto decoded = decode_response(
      R"([{"channel":"/meta/handshake","clientId":"1x2y3z","version":"1.0","minimumVersion":"1.0","supportedConnectionTypes":["long-polling"],"successful":true,"ext":{"replay":true,"payload.format":true},"id":"1"}])");
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_EQ(decoded->messages.size(), 1u);
  const auto& m = decoded->messages[0];
  EXPECT_EQ(m.channel, "/meta/handshake");
  EXPECT_EQ(m.client_id, "1x2y3z");
  EXPECT_EQ(m.successful, true);
  EXPECT_EQ(m.id, "1");
  EXPECT_TRUE(m.is_meta());
  EXPECT_FALSE(m.event.has_value());
}

TEST(BayeuxDecode, ShouldDecodeEventsFollowedByConnectReplyWithAdvice) {
  const std::string body = std::string("[") + kEvent +
                           R"(,{"channel":"/meta/connect","successful":true,"id":"4",)"
                           R"("advice":{"interval":0,"timeout":110000,"reconnect":"retry"}}])";
  auto decoded = decode_response(body);
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_EQ(decoded->messages.size(), 2u);
  const auto& event = decoded->messages[0].event;
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->channel, "/event/Low_Ink__e");
  EXPECT_EQ(event->replay_id, core::ReplayId::cometd(2));
  EXPECT_EQ(event->event_uuid, "3b2d7c1e-9d1a-4b8e-8f21-5c0f1d2e3a4b");
  EXPECT_EQ(event->schema, "dffQ2QLzDNHqwB8_sHMxdA");
  EXPECT_EQ(event->created_date, "2026-11-26T17:30:00.123Z");
  EXPECT_EQ(
      event->payload_json,
      R"({"CreatedDate":"2026-11-26T17:30:00.123Z","CreatedById":"005xx000001SvQrAAK","Printer_Model__c":"XZO-5"})");
  // The data object verbatim, whitespace included: exactly the bytes between its braces.
  const std::string event_text(kEvent);
  const auto data_begin = event_text.find("{\"schema\"");
  EXPECT_EQ(event->envelope_json,
            event_text.substr(data_begin, event_text.size() - 1 - data_begin));
  auto envelope = parse(event->envelope_json);
  EXPECT_EQ(envelope["event"]["replayId"].GetInt64(), 2);
  const auto& reply = decoded->messages[1];
  ASSERT_TRUE(reply.advice.has_value());
  EXPECT_EQ(reply.advice->reconnect, "retry");
  EXPECT_EQ(reply.advice->interval_ms, 0);
  EXPECT_EQ(reply.advice->timeout_ms, 110000);
}

TEST(BayeuxDecode, ShouldDecodeErrorsAndFailureReason) {
  auto decoded = decode_response(
      R"([{"channel":"/meta/handshake","successful":false,"error":"403::Handshake denied","ext":{"sfdc":{"failureReason":"401::Authentication invalid"}},"advice":{"reconnect":"none"}}])");
  ASSERT_TRUE(decoded);
  const auto& m = decoded->messages[0];
  EXPECT_EQ(m.successful, false);
  EXPECT_EQ(m.error, "403::Handshake denied");
  EXPECT_EQ(m.failure_reason, "401::Authentication invalid");
  EXPECT_TRUE(is_authentication_error(m.failure_reason));
  EXPECT_EQ(m.advice->reconnect, "none");
  EXPECT_FALSE(m.advice->timeout_ms.has_value());
}

TEST(BayeuxDecode, ShouldSkipAnEventWhoseReplayIdIsNotAnIntegerAndKeepTheOthers) {
  const std::string bad =
      R"({"channel":"/event/Low_Ink__e","data":{"payload":{},"event":{"replayId":"7"}}})";
  const std::string body =
      std::string("[") + kEvent + "," + bad + R"(,{"channel":"/meta/connect","successful":true}])";
  auto decoded = decode_response(body);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->messages.size(), 2u);
  EXPECT_EQ(decoded->malformed_count, 1u);
  ASSERT_EQ(decoded->malformed.size(), 1u);
  EXPECT_EQ(decoded->malformed[0].index, 1u);
  EXPECT_NE(decoded->malformed[0].reason.find("replayId"), std::string::npos);
  EXPECT_NE(decoded->malformed[0].snippet.find("\"7\""), std::string::npos);
}

TEST(BayeuxDecode, ShouldReportEachKindOfMissingField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"(42)", "not a JSON object"},
      {R"({"data":{}})", "channel"},
      {R"({"channel":5})", "channel"},
      {R"({"channel":"/event/A__e"})", "data"},
      {R"({"channel":"/event/A__e","data":{"payload":{}}})", "data.event"},
      {R"({"channel":"/event/A__e","data":{"payload":{},"event":{}}})", "replayId is missing"},
      {R"({"channel":"/event/A__e","data":{"payload":{},"event":{"replayId":1.5}}})",
       "not an integer"},
      {R"({"channel":"/event/A__e","data":{"payload":[],"event":{"replayId":1}}})", "payload"},
      {R"({"channel":"/meta/connect","successful":"yes"})", "successful"},
  };
  for (const auto& [element, reason] : cases) {
    auto decoded = decode_response("[" + element + "]");
    ASSERT_TRUE(decoded) << element;
    EXPECT_TRUE(decoded->messages.empty()) << element;
    ASSERT_EQ(decoded->malformed_count, 1u) << element;
    EXPECT_NE(decoded->malformed[0].reason.find(reason), std::string::npos)
        << element << " -> " << decoded->malformed[0].reason;
  }
}

// The three channel kinds as Salesforce sends them (bayeux.h "Event messages").
constexpr const char* kPushTopicEvent =
    R"({"channel":"/topic/InvoiceUpdates",
        "data":{"event":{"createdDate":"2026-11-26T17:31:02.000Z","replayId":17,"type":"updated"},
                "sobject":{"Id":"a07xx000003DGb2AAG", "Name":"INV-0042","Amount__c":12.50}}})";

constexpr const char* kChangeEvent =
    R"({"channel":"/data/AccountChangeEvent",
        "data":{"schema":"IeRuaY6cbI_HsV8Rv1Mc5g",
                "payload":{"ChangeEventHeader":{"entityName":"Account",
                             "recordIds":["001xx000003DGb2AAG","001xx000003DGb3AAG"],
                             "changeType":"UPDATE","changeOrigin":"com/salesforce/api/rest/62.0",
                             "transactionKey":"0002343d-9d90-e395-ed20-cf416ba652ad",
                             "sequenceNumber":2,"commitTimestamp":1764178262000,
                             "commitNumber":10606287215513,"commitUser":"005xx000001SvQrAAK",
                             "changedFields":["Rating","LastModifiedDate"],"nulledFields":[],
                             "diffFields":[]},
                           "Rating":"Hot","AnnualRevenue":12.50},
                "event":{"replayId":6}}})";

constexpr const char* kGapEvent =
    R"({"channel":"/data/ChangeEvents",
        "data":{"schema":"s2","payload":{"ChangeEventHeader":{"entityName":"Contact",
                "recordIds":["003xx000004TmiQAAS"],"changeType":"GAP_UPDATE",
                "transactionKey":"t1","sequenceNumber":1,"commitTimestamp":1764178262000,
                "commitNumber":1,"commitUser":"005xx000001SvQrAAK","changedFields":[],
                "nulledFields":[],"diffFields":[]}},
                "event":{"replayId":9}}})";

// The text of `key`'s object value inside `text` (the first one), braces included.
std::string object_text(const std::string& text, const std::string& key) {
  const auto begin = text.find('{', text.find("\"" + key + "\":"));
  int depth = 0;
  for (auto i = begin; i < text.size(); ++i) {
    depth += text[i] == '{' ? 1 : text[i] == '}' ? -1 : 0;
    if (depth == 0) {
      return text.substr(begin, i + 1 - begin);
    }
  }
  return {};
}

TEST(BayeuxDecode, ShouldDecodeAPushTopicEventWithItsSobjectAsTheRecord) {
  auto decoded = decode_response(std::string("[") + kPushTopicEvent + "]");
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_EQ(decoded->malformed_count, 0u)
      << (decoded->malformed.empty() ? "" : decoded->malformed[0].reason);
  ASSERT_EQ(decoded->messages.size(), 1u);
  const auto& event = decoded->messages[0].event;
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind, EventKind::kPushTopic);
  EXPECT_EQ(event->channel, "/topic/InvoiceUpdates");
  EXPECT_EQ(event->replay_id, core::ReplayId::cometd(17));
  EXPECT_EQ(event->event_type, "updated");
  EXPECT_EQ(event->created_date, "2026-11-26T17:31:02.000Z");
  EXPECT_EQ(event->event_uuid, "");
  EXPECT_EQ(event->schema, "");
  EXPECT_FALSE(event->change.has_value());
  // The sobject and data objects byte for byte: whitespace kept, 12.50 stays 12.50.
  EXPECT_EQ(event->payload_json, object_text(kPushTopicEvent, "sobject"));
  EXPECT_NE(event->payload_json.find("12.50"), std::string::npos);
  EXPECT_EQ(event->envelope_json, object_text(kPushTopicEvent, "data"));
}

TEST(BayeuxDecode, ShouldDecodeAChangeEventWithItsHeaderAndEveryRecordId) {
  auto decoded = decode_response(std::string("[") + kChangeEvent + "," + kGapEvent + "]");
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_EQ(decoded->malformed_count, 0u)
      << (decoded->malformed.empty() ? "" : decoded->malformed[0].reason);
  ASSERT_EQ(decoded->messages.size(), 2u);
  const auto& event = decoded->messages[0].event;
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind, EventKind::kChangeEvent);
  EXPECT_EQ(event->replay_id, core::ReplayId::cometd(6));
  EXPECT_EQ(event->schema, "IeRuaY6cbI_HsV8Rv1Mc5g");
  EXPECT_EQ(event->event_uuid, "");
  EXPECT_EQ(event->created_date, "");
  ASSERT_TRUE(event->change.has_value());
  const auto& change = *event->change;
  EXPECT_EQ(change.entity_name, "Account");
  EXPECT_EQ(change.change_type, "UPDATE");
  EXPECT_EQ(change.record_ids,
            (std::vector<std::string>{"001xx000003DGb2AAG", "001xx000003DGb3AAG"}));
  EXPECT_EQ(change.change_origin, "com/salesforce/api/rest/62.0");
  EXPECT_EQ(change.transaction_key, "0002343d-9d90-e395-ed20-cf416ba652ad");
  EXPECT_EQ(change.commit_user, "005xx000001SvQrAAK");
  EXPECT_EQ(change.sequence_number, 2);
  EXPECT_EQ(change.commit_number, 10606287215513);
  EXPECT_EQ(change.commit_timestamp, 1764178262000);
  // The payload with its header, byte for byte.
  EXPECT_EQ(event->payload_json, object_text(kChangeEvent, "payload"));
  EXPECT_NE(event->payload_json.find("\"AnnualRevenue\":12.50"), std::string::npos);
  EXPECT_EQ(event->envelope_json, object_text(kChangeEvent, "data"));

  // A gap event carries only the header.
  const auto& gap = decoded->messages[1].event;
  ASSERT_TRUE(gap.has_value());
  EXPECT_EQ(gap->kind, EventKind::kChangeEvent);
  EXPECT_EQ(gap->change->change_type, "GAP_UPDATE");
  EXPECT_EQ(gap->change->entity_name, "Contact");
  EXPECT_EQ(gap->change->record_ids, std::vector<std::string>{"003xx000004TmiQAAS"});
  EXPECT_EQ(gap->payload_json, object_text(kGapEvent, "payload"));
}

TEST(BayeuxDecode, ShouldTakeAChangeEventWithoutRecordIdsAsNamingNone) {
  auto decoded = decode_response(
      R"([{"channel":"/data/ChangeEvents","data":{"schema":"s","payload":{"ChangeEventHeader":)"
      R"({"entityName":"Account","changeType":"GAP_OVERFLOW","commitTimestamp":1}},)"
      R"("event":{"replayId":3}}}])");
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->messages.size(), 1u);
  ASSERT_TRUE(decoded->messages[0].event->change.has_value());
  EXPECT_EQ(decoded->messages[0].event->change->change_type, "GAP_OVERFLOW");
  EXPECT_TRUE(decoded->messages[0].event->change->record_ids.empty());
  EXPECT_FALSE(decoded->messages[0].event->change->sequence_number.has_value());
}

TEST(BayeuxDecode, ShouldDecideTheKindByTheShapeNotTheChannelName) {
  // A /topic/ channel that carries a platform event's shape is decoded as one, and the other
  // way round; only a message that fits no kind is malformed.
  auto decoded = decode_response(
      R"([{"channel":"/topic/T","data":{"payload":{"A":1},"event":{"replayId":1,"EventUuid":"u"}}},)"
      R"({"channel":"/event/E__e","data":{"sobject":{"Id":"x"},"event":{"replayId":2,"type":"created"}}}])");
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->messages.size(), 2u);
  EXPECT_EQ(decoded->messages[0].event->kind, EventKind::kPlatformEvent);
  EXPECT_EQ(decoded->messages[0].event->event_uuid, "u");
  EXPECT_EQ(decoded->messages[1].event->kind, EventKind::kPushTopic);
  EXPECT_EQ(decoded->messages[1].event->payload_json, R"({"Id":"x"})");
}

TEST(BayeuxDecode, ShouldReportWhatAPushTopicOrChangeEventLacks) {
  const std::string replay = R"("event":{"replayId":1})";
  const std::string header_start = R"({"channel":"/data/ChangeEvents","data":{"schema":"s",)"
                                   R"("payload":{"ChangeEventHeader":)";
  const std::vector<std::pair<std::string, std::string>> cases = {
      // PushTopic
      {R"({"channel":"/topic/T","data":{)" + replay + "}}", "data.sobject is missing"},
      {R"({"channel":"/topic/T","data":{"sobject":"x",)" + replay + "}}",
       "data.sobject is not an object"},
      {R"({"channel":"/topic/T","data":{"sobject":{},)" + replay + "}}",
       "data.event.type is missing"},
      {R"({"channel":"/topic/T","data":{"sobject":{},"event":{"replayId":1,"type":5}}})",
       "data.event.type is missing or not a string"},
      {R"({"channel":"/topic/T","data":{"sobject":{},"event":{"type":"created"}}})",
       "replayId is missing"},
      // Change events
      {R"({"channel":"/data/ChangeEvents","data":{"schema":"s",)" + replay + "}}",
       "data.payload is missing"},
      {header_start + R"("x"},)" + replay + "}}", "ChangeEventHeader is not an object"},
      {header_start + R"({"changeType":"CREATE","recordIds":[]}},)" + replay + "}}",
       "ChangeEventHeader.entityName is missing"},
      {header_start + R"({"entityName":"Account","recordIds":[]}},)" + replay + "}}",
       "ChangeEventHeader.changeType is missing"},
      {header_start + R"({"entityName":"Account","changeType":"CREATE","recordIds":"001"}},)" +
           replay + "}}",
       "ChangeEventHeader.recordIds is not an array"},
      {header_start + R"({"entityName":"Account","changeType":"CREATE","recordIds":["001",2]}},)" +
           replay + "}}",
       "recordIds holds a value that is not a string"},
  };
  for (const auto& [element, reason] : cases) {
    auto decoded = decode_response("[" + element + "]");
    ASSERT_TRUE(decoded) << element;
    EXPECT_TRUE(decoded->messages.empty()) << element;
    ASSERT_EQ(decoded->malformed_count, 1u) << element;
    EXPECT_NE(decoded->malformed[0].reason.find(reason), std::string::npos)
        << element << " -> " << decoded->malformed[0].reason;
  }
}

TEST(BayeuxDecode, ShouldRejectNonArrayAndNonJsonBodiesWithBoundedSnippet) {
  auto object = decode_response(R"({"channel":"/meta/connect"})");
  ASSERT_FALSE(object);
  EXPECT_EQ(object.error().kind, core::ErrorKind::kInvalidInput);
  EXPECT_NE(object.error().message.find("/meta/connect"), std::string::npos);

  const std::string garbage = "<html>" + std::string(5000, 'x') + "</html>";
  auto html = decode_response(garbage);
  ASSERT_FALSE(html);
  EXPECT_EQ(html.error().kind, core::ErrorKind::kInvalidInput);
  EXPECT_LT(html.error().message.size(), 200u + 120u);

  EXPECT_FALSE(decode_response(""));
  EXPECT_FALSE(decode_response("[1,2"));
  EXPECT_FALSE(decode_response("[] trailing"));
}

TEST(BayeuxDecode, ShouldRedactSecretsInSnippets) {
  auto decoded = decode_response(R"({"access_token":"00Dabc!secret","x":1})");
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().message.find("00Dabc!secret"), std::string::npos);
}

TEST(BayeuxDecode, ShouldCutSnippetsOnCharacterBoundaries) {
  std::string text;
  for (int i = 0; i < 300; ++i) {
    text += "é";  // two bytes each
  }
  const std::string cut = snippet(text);
  EXPECT_LE(cut.size(), kMaxSnippet + 3);
  // Valid UTF-8: the excerpt (without "...") has an even number of bytes here.
  EXPECT_EQ((cut.size() - 3) % 2, 0u);
}

TEST(BayeuxDecode, ShouldSkipTooDeeplyNestedMessageButKeepOthers) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) {
    deep += "[";
  }
  for (int i = 0; i < 100000; ++i) {
    deep += "]";
  }
  const std::string body = std::string("[") + kEvent +
                           R"(,{"channel":"/event/Low_Ink__e","data":{"payload":{"x":)" + deep +
                           R"(},"event":{"replayId":3}}}])";
  auto decoded = decode_response(body);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->messages.size(), 1u);
  EXPECT_EQ(decoded->malformed_count, 1u);
}

TEST(BayeuxDecode, ShouldKeepThePayloadBytesAsSalesforceSentThem) {
  // Re-serialising through a double would write 12.5 and round the long decimal.
  const std::string payload =
      R"({"Amount__c":12.50,"Long__c":1234567890123.456789012,"Big__c":123456789012345678901,)"
      R"("Name__c":"caf\u00e9", "Spaced__c" : [1, 2]})";
  const std::string data = R"({"schema":"s1","payload":)" + payload + R"(,"event":{"replayId":5}})";
  // A malformed element first, so the second element's text must still be its own.
  const std::string body = R"([7,{"channel":"/event/A__e","data":)" + data +
                           R"(},{"channel":"/event/A__e","data":{"payload":{"N__c":1.0},)"
                           R"("event":{"replayId":6}}}])";
  auto decoded = decode_response(body);
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_EQ(decoded->messages.size(), 2u);
  EXPECT_EQ(decoded->malformed_count, 1u);
  EXPECT_EQ(decoded->messages[0].event->payload_json, payload);
  EXPECT_EQ(decoded->messages[0].event->envelope_json, data);
  EXPECT_EQ(decoded->messages[1].event->payload_json, R"({"N__c":1.0})");
}

TEST(BayeuxDecode, ShouldTakeTheFirstOfDuplicatedKeysLikeTheTree) {
  const std::string body =
      R"([{"channel":"/event/A__e","data":{"payload":{"N__c":1},"payload":{"N__c":2},)"
      R"("event":{"replayId":6}},"data":{"payload":{"N__c":3},"event":{"replayId":7}}}])";
  auto decoded = decode_response(body);
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_EQ(decoded->messages.size(), 1u);
  EXPECT_EQ(decoded->messages[0].event->replay_id, core::ReplayId::cometd(6));
  EXPECT_EQ(decoded->messages[0].event->payload_json, R"({"N__c":1})");
}

TEST(BayeuxDecode, ShouldHandleHugePayload) {
  const std::string big(5 * 1024 * 1024, 'a');
  const std::string body = R"([{"channel":"/event/Big__e","data":{"payload":{"Blob__c":")" + big +
                           R"("},"event":{"replayId":9}}}])";
  auto decoded = decode_response(body);
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->messages.size(), 1u);
  EXPECT_EQ(decoded->messages[0].event->payload_json.size(), big.size() + 14);
}

TEST(BayeuxDecode, ShouldRejectInvalidUtf8) {
  EXPECT_FALSE(decode_response("[{\"channel\":\"/meta/connect\",\"x\":\"\xff\xfe\"}]"));
}

TEST(BayeuxErrors, ShouldClassifySalesforceErrorTexts) {
  EXPECT_EQ(error_code("403::Unknown client"), 403);
  EXPECT_EQ(error_code("nonsense"), 0);
  EXPECT_EQ(error_code("::x"), 0);
  EXPECT_TRUE(is_unknown_client("403::Unknown client"));
  EXPECT_FALSE(is_unknown_client("403::Handshake denied"));
  EXPECT_TRUE(is_authentication_error("401::Authentication invalid"));
  EXPECT_TRUE(is_server_busy("503::Server is too busy"));
  EXPECT_TRUE(is_daily_limit("403::Organization total events daily limit exceeded"));
  EXPECT_TRUE(is_invalid_replay_id(
      "400::The replayId {12} you provided was invalid.  Please provide a valid ID, -2 to replay "
      "all events, or -1 to replay only new events."));
  EXPECT_FALSE(is_invalid_replay_id(
      "400::The replayId for channel {/event/X__e} wasn't found using the provided replay ID map"));
}

}  // namespace
}  // namespace sfkb::salesforce::bayeux
