// libFuzzer target: the Pub/Sub API's publish response mapping (daemon/pubsub/publish_result.h).
// The input is one byte of gRPC status code, one byte for how many events were sent, one length
// byte and that many bytes of the `error-code` trailer, then a serialized
// eventbus.v1.PublishResponse (proto/eventbus/v1/pubsub_api.proto), turned into EventResults the
// way the publisher does. Checks: a per-record reply has exactly one result per event sent, a
// reply that could not be understood is retried (never a verdict that dead-letters), and every
// event the server refused for its schema is one that was sent.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "daemon/pubsub/publish_result.h"
#include "eventbus/v1/pubsub_api.pb.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);  // see fuzz_pubsub_response.cpp
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) {
    return 0;
  }
  sfkb::pubsub::CallStatus status;
  status.code = static_cast<std::int8_t>(data[0]);  // also codes outside 0..16
  const std::size_t sent = data[1] % 201;           // a batch holds at most 200 events
  const std::size_t trailer = data[2];
  if (size < 3 + trailer) {
    return 0;
  }
  status.error_code.assign(reinterpret_cast<const char*>(data + 3), trailer);
  status.message = "fuzz";
  eventbus::v1::PublishResponse response;
  if (!response.ParseFromArray(data + 3 + trailer, static_cast<int>(size - 3 - trailer))) {
    return 0;
  }
  std::vector<sfkb::pubsub::EventResult> results;
  for (const auto& r : response.results()) {
    sfkb::pubsub::EventResult e;
    e.correlation_key = r.correlation_key();
    e.replay_id = r.replay_id();
    e.has_error = r.has_error();
    if (e.has_error) {
      e.error_code = static_cast<int>(r.error().code());
      e.error_message = r.error().msg();
    }
    results.push_back(std::move(e));
  }
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < sent; ++i) {
    ids.push_back("id" + std::to_string(i));
  }
  const auto outcome = sfkb::pubsub::map_publish_outcome(status, results, ids);
  using sfkb::salesforce::ReplyKind;
  if (outcome.reply.kind == ReplyKind::kPerRecord && outcome.reply.records.size() != sent) {
    std::abort();
  }
  if (outcome.reply.malformed && outcome.reply.kind != ReplyKind::kTransient) {
    std::abort();
  }
  for (auto index : outcome.schema_refused_events) {
    if (index >= sent) {
      std::abort();
    }
  }
  return 0;
}
