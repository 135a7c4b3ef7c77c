// The composition root's choices that need no network: which value encoder a mapping's `value:`
// names, and the checkpoint store `run` and `checkpoints` share.
#include "daemon/app/composition_root.h"

#include <filesystem>

#include <gtest/gtest.h>

namespace sfkb::app {
namespace {

salesforce::StreamEvent sample_event() {
  salesforce::StreamEvent event;
  event.channel = "/event/Flight_Approved__e";
  event.replay_id = core::ReplayId::cometd(7);
  event.payload_json = R"({"Seats__c":12.50})";
  event.envelope_json = R"({"schema":"s","payload":{"Seats__c":12.50},"event":{"replayId":7}})";
  return event;
}

TEST(CompositionRoot, ValuePayloadEncodesTheRecordObjectAsSent) {
  config::SubscribeMapping mapping;  // value: payload is the default
  EXPECT_EQ(make_value_encoder(mapping)->encode(sample_event()), sample_event().payload_json);
}

TEST(CompositionRoot, ValueEnvelopeEncodesTheWholeDataObjectAsSent) {
  config::SubscribeMapping mapping;
  mapping.value = config::ValueKind::kEnvelope;
  EXPECT_EQ(make_value_encoder(mapping)->encode(sample_event()), sample_event().envelope_json);
}

TEST(CompositionRoot, CheckpointStoreIsTheFileInTheConfiguredDirectory) {
  config::Config config;
  config.checkpoint.directory =
      (std::filesystem::temp_directory_path() / "sfkb-root-test").string();
  const auto store = make_checkpoint_store(config);
  EXPECT_EQ(std::filesystem::path(store->location()).parent_path(),
            std::filesystem::path(config.checkpoint.directory));
}

}  // namespace
}  // namespace sfkb::app
