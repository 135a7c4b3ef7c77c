// proto/eventbus/v1/pubsub_api.proto must match Salesforce's on the wire: the bytes below are
// written by hand from the protobuf encoding rules (tag = field number << 3 | wire type) and the
// field numbers of Salesforce's pubsub_api.proto, so a renumbered or retyped field fails here.

#include <gtest/gtest.h>

#include <string>

#include "eventbus/v1/pubsub_api.grpc.pb.h"

namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string out;
  for (const int b : list) {
    out.push_back(static_cast<char>(b));
  }
  return out;
}

TEST(PubsubWireContract, AFetchRequestIsEncodedWithSalesforcesFieldNumbers) {
  eventbus::v1::FetchRequest request;
  request.set_topic_name("/event/A__e");
  request.set_replay_preset(eventbus::v1::CUSTOM);
  request.set_replay_id(std::string("\x00\x07", 2));
  request.set_num_requested(100);
  // 1: topic_name (length-delimited), 2: replay_preset (varint, CUSTOM = 2), 3: replay_id
  // (length-delimited), 4: num_requested (varint).
  EXPECT_EQ(request.SerializeAsString(),
            bytes({0x0a, 0x0b, '/',  'e',  'v',  'e',  'n',  't',  '/',  'A', '_',
                   '_',  'e',  0x10, 0x02, 0x1a, 0x02, 0x00, 0x07, 0x20, 0x64}));
  EXPECT_EQ(eventbus::v1::LATEST, 0);
  EXPECT_EQ(eventbus::v1::EARLIEST, 1);
}

TEST(PubsubWireContract, AFetchResponseFromSalesforcesFieldNumbersParses) {
  // FetchResponse{events: [ConsumerEvent{event: ProducerEvent{id: "u", schema_id: "s",
  // payload: 0x02}, replay_id: 0x09}], latest_replay_id: 0x09, rpc_id: "r",
  // pending_num_requested: 99}
  const std::string producer = bytes({0x0a, 0x01, 'u', 0x12, 0x01, 's', 0x1a, 0x01, 0x02});
  std::string consumer =
      bytes({0x0a, static_cast<int>(producer.size())}) + producer + bytes({0x12, 0x01, 0x09});
  const std::string wire = bytes({0x0a, static_cast<int>(consumer.size())}) + consumer +
                           bytes({0x12, 0x01, 0x09, 0x1a, 0x01, 'r', 0x20, 0x63});
  eventbus::v1::FetchResponse response;
  ASSERT_TRUE(response.ParseFromString(wire));
  ASSERT_EQ(response.events_size(), 1);
  EXPECT_EQ(response.events(0).event().id(), "u");
  EXPECT_EQ(response.events(0).event().schema_id(), "s");
  EXPECT_EQ(response.events(0).event().payload(), "\x02");
  EXPECT_EQ(response.events(0).replay_id(), "\x09");
  EXPECT_EQ(response.latest_replay_id(), "\x09");
  EXPECT_EQ(response.rpc_id(), "r");
  EXPECT_EQ(response.pending_num_requested(), 99);
}

TEST(PubsubWireContract, PublishResultsAndErrorsUseSalesforcesFieldNumbers) {
  // PublishResponse{results: [PublishResult{replay_id: 0x05, error: Error{code: PUBLISH, msg: "m"},
  // correlation_key: "k"}], schema_id: "s", rpc_id: "r"}
  const std::string error = bytes({0x08, 0x01, 0x12, 0x01, 'm'});
  std::string result = bytes({0x0a, 0x01, 0x05, 0x12, static_cast<int>(error.size())}) + error +
                       bytes({0x1a, 0x01, 'k'});
  const std::string wire = bytes({0x0a, static_cast<int>(result.size())}) + result +
                           bytes({0x12, 0x01, 's', 0x1a, 0x01, 'r'});
  eventbus::v1::PublishResponse response;
  ASSERT_TRUE(response.ParseFromString(wire));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).replay_id(), "\x05");
  EXPECT_EQ(response.results(0).error().code(), eventbus::v1::PUBLISH);
  EXPECT_EQ(response.results(0).error().msg(), "m");
  EXPECT_EQ(response.results(0).correlation_key(), "k");
  EXPECT_EQ(response.schema_id(), "s");
  EXPECT_EQ(response.rpc_id(), "r");
}

TEST(PubsubWireContract, TheServiceAndItsMethodsHaveSalesforcesNames) {
  // The RPC paths are /<package>.<service>/<method>.
  EXPECT_STREQ(eventbus::v1::PubSub::service_full_name(), "eventbus.v1.PubSub");
  const auto* service =
      eventbus::v1::FetchRequest::descriptor()->file()->FindServiceByName("PubSub");
  ASSERT_NE(service, nullptr);
  for (const char* method :
       {"Subscribe", "GetSchema", "GetTopic", "Publish", "PublishStream", "ManagedSubscribe"}) {
    EXPECT_NE(service->FindMethodByName(method), nullptr) << method;
  }
  EXPECT_TRUE(service->FindMethodByName("Subscribe")->client_streaming());
  EXPECT_TRUE(service->FindMethodByName("Subscribe")->server_streaming());
  EXPECT_FALSE(service->FindMethodByName("Publish")->client_streaming());
  EXPECT_EQ(service->FindMethodByName("GetSchema")->input_type()->full_name(),
            "eventbus.v1.SchemaRequest");
  EXPECT_EQ(service->FindMethodByName("GetTopic")->output_type()->full_name(),
            "eventbus.v1.TopicInfo");
}

}  // namespace
