// The emulator's Pub/Sub API (tests/emulator/README.md "Pub/Sub API") through a real gRPC client
// built from proto/eventbus/v1/pubsub_api.proto. Payloads are encoded and decoded with Avro C
// (libavro) from the schema GetSchema returns, not with the emulator's own encoder, so that an
// encoding mistake shows here.
#include <avro.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "eventbus/v1/pubsub_api.grpc.pb.h"
#include "test_support.h"

namespace sfkb::emulator::test {
namespace {

namespace pb = eventbus::v1;
using Stream = grpc::ClientReaderWriter<pb::FetchRequest, pb::FetchResponse>;

constexpr const char* kEvents =
    "events:\n"
    "  Pub_Test__e:\n"
    "    Text__c: string\n"
    "    Amount__c: number\n"
    "    Flag__c: boolean\n"
    "    When__c: datetime\n"
    "    Day__c: date\n";
constexpr const char* kTopic = "/event/Pub_Test__e";
constexpr const char* kAuthError = "sfdc.platform.eventbus.grpc.service.auth.error";
constexpr const char* kReplayCorrupted =
    "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted";

std::int64_t replay_of(const std::string& bytes) {
  EXPECT_EQ(bytes.size(), 8u);
  std::uint64_t v = 0;
  for (unsigned char c : bytes) {
    v = (v << 8) | c;
  }
  return static_cast<std::int64_t>(v);
}

std::string replay_bytes(std::int64_t id) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(id & 0xFF);
    id >>= 8;
  }
  return out;
}

std::string trailer(const grpc::ClientContext& ctx, const std::string& key) {
  const auto& md = ctx.GetServerTrailingMetadata();
  auto it = md.find(key);
  return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

// Avro C's view of one schema: decodes payloads to JSON and encodes records from JSON-ish values.
class AvroCodec {
 public:
  explicit AvroCodec(const std::string& schema_json) {
    if (avro_schema_from_json_length(schema_json.data(), schema_json.size(), &schema_) != 0) {
      throw std::runtime_error("Avro C rejects the schema: " + std::string(avro_strerror()));
    }
    iface_ = avro_generic_class_from_schema(schema_);
  }
  ~AvroCodec() {
    avro_value_iface_decref(iface_);
    avro_schema_decref(schema_);
  }
  AvroCodec(const AvroCodec&) = delete;
  AvroCodec& operator=(const AvroCodec&) = delete;

  // The payload as Avro C writes it as JSON ({"Text__c":{"string":"x"},...}).
  rapidjson::Document decode(const std::string& bytes) {
    avro_value_t value;
    avro_generic_value_new(iface_, &value);
    avro_reader_t reader = avro_reader_memory(bytes.data(), static_cast<int64_t>(bytes.size()));
    int rc = avro_value_read(reader, &value);
    EXPECT_EQ(rc, 0) << avro_strerror();
    char* json = nullptr;
    avro_value_to_json(&value, 1, &json);
    std::string text = json == nullptr ? "" : json;
    std::free(json);
    avro_reader_free(reader);
    avro_value_decref(&value);
    return parse(text);
  }

  // One record: CreatedDate, CreatedById, Text__c and Amount__c set (the rest null), or garbage.
  std::string encode(const std::string& text, double amount) {
    avro_value_t value;
    avro_generic_value_new(iface_, &value);
    avro_value_t field, branch;
    avro_value_get_by_name(&value, "CreatedDate", &field, nullptr);
    avro_value_set_long(&field, 1764547200000);
    avro_value_get_by_name(&value, "CreatedById", &field, nullptr);
    avro_value_set_string(&field, "005xx000001SvQrAAK");
    for (const char* name : {"Flag__c", "When__c", "Day__c"}) {
      avro_value_get_by_name(&value, name, &field, nullptr);
      avro_value_set_branch(&field, 0, &branch);
      avro_value_set_null(&branch);
    }
    avro_value_get_by_name(&value, "Text__c", &field, nullptr);
    avro_value_set_branch(&field, 1, &branch);
    avro_value_set_string(&branch, text.c_str());
    avro_value_get_by_name(&value, "Amount__c", &field, nullptr);
    avro_value_set_branch(&field, 1, &branch);
    avro_value_set_double(&branch, amount);
    std::vector<char> buffer(4096);
    avro_writer_t writer = avro_writer_memory(buffer.data(), static_cast<int64_t>(buffer.size()));
    EXPECT_EQ(avro_value_write(writer, &value), 0) << avro_strerror();
    std::string out(buffer.data(), static_cast<std::size_t>(avro_writer_tell(writer)));
    avro_writer_free(writer);
    avro_value_decref(&value);
    return out;
  }

 private:
  avro_schema_t schema_ = nullptr;
  avro_value_iface_t* iface_ = nullptr;
};

class PubSubTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  void start(std::vector<std::string> extra) {
    EmulatorProcess::Options o;
    o.events_yaml = kEvents;
    o.extra_args = {"--pubsub-keepalive-ms", "300",   "--client-id", "app",
                    "--client-secret",       "secret"};
    o.extra_args.insert(o.extra_args.end(), extra.begin(), extra.end());
    sf_ = std::make_unique<EmulatorProcess>(o);
    ASSERT_FALSE(sf_->pubsub_address().empty());
    auto stats = parse(sf_->stats());
    org_id_ = str(stats, "org_id");
    token_ = sf_->static_token();
    channel_ = grpc::CreateChannel(sf_->pubsub_address(), grpc::InsecureChannelCredentials());
    stub_ = pb::PubSub::NewStub(channel_);
  }

  std::unique_ptr<grpc::ClientContext> context(
      std::chrono::seconds timeout = std::chrono::seconds(20)) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("accesstoken", token_);
    ctx->AddMetadata("instanceurl", sf_->base_url());
    ctx->AddMetadata("tenantid", org_id_);
    ctx->set_deadline(std::chrono::system_clock::now() + timeout);
    return ctx;
  }

  std::string schema_json() {
    auto ctx = context();
    pb::TopicRequest tr;
    tr.set_topic_name(kTopic);
    pb::TopicInfo topic;
    EXPECT_TRUE(stub_->GetTopic(ctx.get(), tr, &topic).ok());
    auto ctx2 = context();
    pb::SchemaRequest sr;
    sr.set_schema_id(topic.schema_id());
    pb::SchemaInfo schema;
    EXPECT_TRUE(stub_->GetSchema(ctx2.get(), sr, &schema).ok());
    schema_id_ = topic.schema_id();
    return schema.schema_json();
  }

  static pb::FetchRequest fetch(pb::ReplayPreset preset, int n, const std::string& replay = "") {
    pb::FetchRequest r;
    r.set_topic_name(kTopic);
    r.set_replay_preset(preset);
    r.set_num_requested(n);
    if (!replay.empty()) {
      r.set_replay_id(replay);
    }
    return r;
  }

  // Reads responses until `want` events arrived; every response is kept in `responses`.
  static std::vector<pb::ConsumerEvent> read_events(
      Stream& s, std::size_t want, std::vector<pb::FetchResponse>* responses = nullptr) {
    std::vector<pb::ConsumerEvent> events;
    pb::FetchResponse r;
    while (events.size() < want && s.Read(&r)) {
      for (const auto& e : r.events()) {
        events.push_back(e);
      }
      if (responses != nullptr) {
        responses->push_back(r);
      }
    }
    return events;
  }

  // The next response without events (a keepalive); fails the test when events come first.
  static pb::FetchResponse read_keepalive(Stream& s) {
    pb::FetchResponse r;
    EXPECT_TRUE(s.Read(&r));
    EXPECT_EQ(r.events_size(), 0) << "events beyond what was requested";
    return r;
  }

  std::unique_ptr<EmulatorProcess> sf_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::PubSub::Stub> stub_;
  std::string org_id_;
  std::string token_;
  std::string schema_id_;
};

TEST_F(PubSubTest, GetTopicAndGetSchemaDescribeTheEventType) {
  auto ctx = context();
  pb::TopicRequest tr;
  tr.set_topic_name(kTopic);
  pb::TopicInfo topic;
  ASSERT_TRUE(stub_->GetTopic(ctx.get(), tr, &topic).ok());
  EXPECT_TRUE(topic.can_publish());
  EXPECT_TRUE(topic.can_subscribe());
  EXPECT_EQ(topic.tenant_guid(), org_id_);
  EXPECT_EQ(topic.schema_id().size(), 22u);

  auto json = schema_json();
  AvroCodec codec(json);  // Avro C accepts it
  auto schema = parse(json);
  EXPECT_EQ(str(schema, "name"), "Pub_Test__e");
  EXPECT_EQ(str(schema, "namespace"), "com.sforce.eventbus");
  const auto& fields = schema["fields"];
  ASSERT_EQ(fields.Size(), 7u);
  EXPECT_EQ(str(fields[0], "name"), "CreatedDate");
  EXPECT_EQ(str(fields[0], "type"), "long");
  EXPECT_EQ(str(fields[2], "name"), "Text__c");
  EXPECT_EQ(std::string(fields[2]["type"][0].GetString()), "null");
  EXPECT_EQ(std::string(fields[2]["type"][1].GetString()), "string");
  EXPECT_TRUE(fields[2]["default"].IsNull());
  EXPECT_EQ(std::string(fields[3]["type"][1].GetString()), "double");

  auto bad = context();
  tr.set_topic_name("/event/Nope__e");
  EXPECT_EQ(stub_->GetTopic(bad.get(), tr, &topic).error_code(), grpc::StatusCode::NOT_FOUND);
  auto bad_schema = context();
  pb::SchemaRequest sr;
  sr.set_schema_id("no-such-schema");
  pb::SchemaInfo info;
  EXPECT_EQ(stub_->GetSchema(bad_schema.get(), sr, &info).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(PubSubTest, SubscribeEarliestDeliversInjectedEventsInReplayOrderWithTheirFields) {
  auto ids = sf_->inject(kTopic, 5,
                         R"({"Text__c":"t-{seq}","Amount__c":12.5,"Flag__c":true,)"
                         R"("When__c":"2026-11-26T17:30:00.250Z","Day__c":"2026-11-26"})");
  AvroCodec codec(schema_json());
  auto ctx = context();
  auto s = stub_->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(fetch(pb::EARLIEST, 10)));
  auto events = read_events(*s, 5);
  ASSERT_EQ(events.size(), 5u);
  std::int64_t previous = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto id = replay_of(events[i].replay_id());
    EXPECT_GT(id, previous);
    previous = id;
    EXPECT_EQ(events[i].event().schema_id(), schema_id_);
    EXPECT_EQ(events[i].event().id().size(), 36u) << "the EventUuid";
    auto payload = codec.decode(events[i].event().payload());
    EXPECT_EQ(std::string(payload["Text__c"]["string"].GetString()), "t-" + std::to_string(i));
    EXPECT_DOUBLE_EQ(payload["Amount__c"]["double"].GetDouble(), 12.5);
    EXPECT_TRUE(payload["Flag__c"]["boolean"].GetBool());
    EXPECT_EQ(payload["When__c"]["long"].GetInt64(), 1795714200250);
    EXPECT_EQ(payload["Day__c"]["int"].GetInt(), 20783);
    EXPECT_GT(payload["CreatedDate"].GetInt64(), 1700000000000);
    EXPECT_EQ(std::string(payload["CreatedById"].GetString()), "005xx000001SvQrAAK");
  }
  EXPECT_EQ(previous, ids.last_replay_id);
  EXPECT_EQ(replay_of(events[0].replay_id()), ids.first_replay_id);
  ctx->TryCancel();
}

TEST_F(PubSubTest, SubscribeLatestDeliversOnlyNewEvents) {
  auto before = sf_->inject(kTopic, 3, R"({"Text__c":"old"})");
  auto ctx = context();
  auto s = stub_->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(fetch(pb::LATEST, 10)));
  // The first keepalive tells where the subscription stands: after the old events.
  auto keepalive = read_keepalive(*s);
  EXPECT_EQ(replay_of(keepalive.latest_replay_id()), before.last_replay_id);
  EXPECT_EQ(keepalive.pending_num_requested(), 10);
  auto after = sf_->inject(kTopic, 2, R"({"Text__c":"new"})");
  auto events = read_events(*s, 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(replay_of(events[0].replay_id()), after.first_replay_id);
  EXPECT_EQ(replay_of(events[1].replay_id()), after.last_replay_id);
  ctx->TryCancel();
}

TEST_F(PubSubTest, SubscribeCustomStartsAfterTheGivenReplayId) {
  sf_->inject(kTopic, 2, R"({"Text__c":"a-{seq}"})");
  auto second = sf_->inject(kTopic, 3, R"({"Text__c":"b-{seq}"})");
  // Start after the first event of the second inject: its other two follow.
  auto ctx0 = context();
  auto all = stub_->Subscribe(ctx0.get());
  ASSERT_TRUE(all->Write(fetch(pb::EARLIEST, 5)));
  auto everything = read_events(*all, 5);
  ASSERT_EQ(everything.size(), 5u);
  ctx0->TryCancel();
  EXPECT_EQ(replay_of(everything[2].replay_id()), second.first_replay_id);

  auto ctx = context();
  auto s = stub_->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(fetch(pb::CUSTOM, 10, everything[2].replay_id())));
  auto events = read_events(*s, 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].replay_id(), everything[3].replay_id());
  EXPECT_EQ(events[1].replay_id(), everything[4].replay_id());
  EXPECT_EQ(read_keepalive(*s).events_size(), 0);
  ctx->TryCancel();
}

TEST_F(PubSubTest, FlowControlNeverSendsMoreThanRequested) {
  sf_->inject(kTopic, 150, R"({"Text__c":"x-{seq}"})");
  auto ctx = context();
  auto s = stub_->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(fetch(pb::EARLIEST, 7)));
  std::vector<pb::FetchResponse> responses;
  auto events = read_events(*s, 7, &responses);
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(responses.back().pending_num_requested(), 0);
  // Nothing more until more is asked for: the next response is a keepalive, still at event 7.
  auto keepalive = read_keepalive(*s);
  EXPECT_EQ(keepalive.latest_replay_id(), events.back().replay_id());
  EXPECT_EQ(keepalive.pending_num_requested(), 0);

  pb::FetchRequest more;
  more.set_num_requested(5);
  ASSERT_TRUE(s->Write(more));
  auto next = read_events(*s, 5);
  ASSERT_EQ(next.size(), 5u);
  EXPECT_GT(replay_of(next[0].replay_id()), replay_of(events.back().replay_id()));
  read_keepalive(*s);

  // One request counts for at most 100 events.
  more.set_num_requested(500);
  ASSERT_TRUE(s->Write(more));
  auto capped = read_events(*s, 100);
  EXPECT_EQ(capped.size(), 100u);
  EXPECT_EQ(read_keepalive(*s).pending_num_requested(), 0);
  ctx->TryCancel();
}

TEST_F(PubSubTest, KeepalivesCarryTheLatestReplayIdWhileIdle) {
  auto ctx = context();
  auto s = stub_->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(fetch(pb::LATEST, 1)));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    auto k = read_keepalive(*s);
    EXPECT_EQ(k.latest_replay_id().size(), 8u);
    EXPECT_EQ(k.pending_num_requested(), 1);
  }
  // Three keepalives at 300 ms take at least 900 ms: they are paced, not sent in a loop.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(850));
  ctx->TryCancel();
}

TEST_F(PubSubTest, PublishedEventsReachCometdAndPubSubSubscribers) {
  AvroCodec codec(schema_json());
  auto ctx = context();
  pb::PublishRequest req;
  req.set_topic_name(kTopic);
  for (int i = 0; i < 3; ++i) {
    auto* e = req.add_events();
    e->set_id("corr-" + std::to_string(i));
    e->set_schema_id(schema_id_);
    e->set_payload(i == 1 ? std::string("\x02\x03garbage", 9)
                          : codec.encode("p-" + std::to_string(i), i));
  }
  pb::PublishResponse reply;
  ASSERT_TRUE(stub_->Publish(ctx.get(), req, &reply).ok());
  ASSERT_EQ(reply.results_size(), 3);
  EXPECT_EQ(reply.results(0).correlation_key(), "corr-0");
  EXPECT_EQ(reply.results(1).correlation_key(), "corr-1");
  EXPECT_FALSE(reply.results(0).has_error());
  EXPECT_TRUE(reply.results(1).has_error()) << "a payload that is not the schema's";
  EXPECT_EQ(reply.results(1).error().code(), pb::PUBLISH);
  EXPECT_FALSE(reply.results(2).has_error());
  auto first = replay_of(reply.results(0).replay_id());
  auto last = replay_of(reply.results(2).replay_id());
  EXPECT_GT(last, first);

  auto published = sf_->published("Pub_Test__e");
  ASSERT_EQ(published.count, 2u);
  EXPECT_EQ(published.events[0], R"({"Text__c":"p-0","Amount__c":0.0})");

  // CometD sees them with the same replay IDs.
  Bayeux cometd(*sf_, token_);
  cometd.handshake();
  cometd.subscribe(kTopic, -2);
  auto reply_doc = cometd.connect();
  auto messages = events_of(reply_doc);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ((*messages[0])["data"]["event"]["replayId"].GetInt64(), first);
  EXPECT_EQ((*messages[1])["data"]["event"]["replayId"].GetInt64(), last);
  EXPECT_EQ(str((*messages[1])["data"]["payload"], "Text__c"), "p-2");

  // And so does a Pub/Sub subscriber, with the EventUuid CometD carries.
  auto sub_ctx = context();
  auto s = stub_->Subscribe(sub_ctx.get());
  ASSERT_TRUE(s->Write(fetch(pb::EARLIEST, 10)));
  auto events = read_events(*s, 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event().id(), str((*messages[0])["data"]["event"], "EventUuid"));
  EXPECT_EQ(std::string(codec.decode(events[1].event().payload())["Text__c"]["string"].GetString()),
            "p-2");
  sub_ctx->TryCancel();
}

TEST_F(PubSubTest, PublishStreamAnswersEachBatchInOrder) {
  AvroCodec codec(schema_json());
  auto ctx = context();
  auto s = stub_->PublishStream(ctx.get());
  for (int batch = 0; batch < 3; ++batch) {
    pb::PublishRequest req;
    req.set_topic_name(kTopic);
    for (int i = 0; i < 2; ++i) {
      auto* e = req.add_events();
      e->set_id("b" + std::to_string(batch) + "-" + std::to_string(i));
      e->set_schema_id(schema_id_);
      e->set_payload(codec.encode("s", batch * 2 + i));
    }
    ASSERT_TRUE(s->Write(req));
  }
  s->WritesDone();
  std::int64_t previous = 0;
  for (int batch = 0; batch < 3; ++batch) {
    pb::PublishResponse reply;
    ASSERT_TRUE(s->Read(&reply));
    ASSERT_EQ(reply.results_size(), 2);
    EXPECT_EQ(reply.results(0).correlation_key(), "b" + std::to_string(batch) + "-0");
    for (const auto& r : reply.results()) {
      EXPECT_FALSE(r.has_error()) << r.error().msg();
      EXPECT_GT(replay_of(r.replay_id()), previous);
      previous = replay_of(r.replay_id());
    }
  }
  pb::PublishResponse extra;
  EXPECT_FALSE(s->Read(&extra));
  EXPECT_TRUE(s->Finish().ok());
  EXPECT_EQ(sf_->published("Pub_Test__e").count, 6u);
}

TEST_F(PubSubTest, AuthFailuresCarrySalesforcesErrorCode) {
  pb::TopicRequest tr;
  tr.set_topic_name(kTopic);
  pb::TopicInfo topic;
  {
    token_ = "not-a-token";
    auto ctx = context();
    auto status = stub_->GetTopic(ctx.get(), tr, &topic);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(trailer(*ctx, "error-code"), kAuthError);
    EXPECT_EQ(status.error_message().find("not-a-token"), std::string::npos)
        << "no secret in errors";
  }
  {
    token_ = sf_->static_token();
    org_id_ = "00Dxx0000009999ZZZ";
    auto ctx = context();
    EXPECT_EQ(stub_->GetTopic(ctx.get(), tr, &topic).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(trailer(*ctx, "error-code"), kAuthError);
  }
  {
    // A token from OAuth that expires while a stream is open ends the stream.
    org_id_ = str(parse(sf_->stats()), "org_id");
    auto http = client_for(*sf_);
    auto res = http.Post("/services/oauth2/token",
                         "grant_type=client_credentials&client_id=app&client_secret=secret",
                         "application/x-www-form-urlencoded");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    token_ = str(parse(res->body), "access_token");
    auto ctx = context();
    auto s = stub_->Subscribe(ctx.get());
    ASSERT_TRUE(s->Write(fetch(pb::LATEST, 1)));
    read_keepalive(*s);
    sf_->faults(R"({"expire_tokens":true})");
    pb::FetchResponse r;
    while (s->Read(&r)) {
    }
    EXPECT_EQ(s->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(trailer(*ctx, "error-code"), kAuthError);
  }
}

TEST_F(PubSubTest, InvalidReplayIdsAreRejectedWithTheCorruptedCode) {
  auto ids = sf_->inject(kTopic, 5, R"({"Text__c":"r"})");
  auto expect_corrupted = [&](const pb::FetchRequest& request, const char* why) {
    auto ctx = context();
    auto s = stub_->Subscribe(ctx.get());
    ASSERT_TRUE(s->Write(request));
    pb::FetchResponse r;
    EXPECT_FALSE(s->Read(&r)) << why;
    auto status = s->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << why;
    EXPECT_EQ(trailer(*ctx, "error-code"), kReplayCorrupted) << why;
  };
  expect_corrupted(fetch(pb::CUSTOM, 1, replay_bytes(ids.last_replay_id + 1000)), "newer than any");
  expect_corrupted(fetch(pb::CUSTOM, 1, std::string("\x01\x02\x03", 3)), "not 8 bytes");
  sf_->faults(R"({"retention":2})");
  expect_corrupted(fetch(pb::CUSTOM, 1, replay_bytes(ids.first_replay_id)), "older than retention");
  sf_->faults(R"({"pubsub_corrupt_next_subscribes":1})");
  expect_corrupted(fetch(pb::LATEST, 1), "the fault");
  // The fault was for one subscribe only.
  auto ctx = context();
  auto s = stub_->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(fetch(pb::EARLIEST, 5)));
  EXPECT_EQ(read_events(*s, 2).size(), 2u) << "the two retained events";
  ctx->TryCancel();
}

TEST_F(PubSubTest, ResetFaultEndsOpenStreamsWithUnavailable) {
  auto ctx = context();
  auto s = stub_->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(fetch(pb::LATEST, 1)));
  read_keepalive(*s);
  EXPECT_EQ(sf_->stat("pubsub_streams_open"), 1);
  sf_->faults(R"({"reset_pubsub_streams":true})");
  pb::FetchResponse r;
  while (s->Read(&r)) {
  }
  EXPECT_EQ(s->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(sf_->stat("pubsub_streams_reset"), 1);
}

// A certificate for localhost and 127.0.0.1, made with openssl for this test only.
struct TestCertificate {
  std::filesystem::path dir;
  std::string cert() const { return (dir / "cert.pem").string(); }
  std::string key() const { return (dir / "key.pem").string(); }
};

TEST(PubSubTlsTest, TlsWithATestCertificateAndPlaintextRefused) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "pubsub-tls-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  TestCertificate c{tmpl};
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
      c.key() + " -out " + c.cert() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EmulatorProcess::Options o;
  o.events_yaml = kEvents;
  o.extra_args = {"--pubsub-tls-cert", c.cert(), "--pubsub-tls-key", c.key()};
  EmulatorProcess sf(o);
  ASSERT_TRUE(sf.pubsub_tls());
  std::ifstream in(c.cert());
  std::stringstream pem;
  pem << in.rdbuf();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = pem.str();
  auto secure =
      pb::PubSub::NewStub(grpc::CreateChannel(sf.pubsub_address(), grpc::SslCredentials(ssl)));
  pb::TopicRequest tr;
  tr.set_topic_name(kTopic);
  pb::TopicInfo topic;
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("accesstoken", sf.static_token());
    ctx.AddMetadata("instanceurl", sf.base_url());
    ctx.AddMetadata("tenantid", str(parse(sf.stats()), "org_id"));
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    auto status = secure->GetTopic(&ctx, tr, &topic);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_FALSE(topic.schema_id().empty());
  }
  {
    auto plain = pb::PubSub::NewStub(
        grpc::CreateChannel(sf.pubsub_address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    EXPECT_EQ(plain->GetTopic(&ctx, tr, &topic).error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  std::filesystem::remove_all(c.dir);
}

}  // namespace
}  // namespace sfkb::emulator::test
