#include "daemon/salesforce/invalid_replay.h"

#include "daemon/ops/log.h"
#include "daemon/ops/log_fields.h"
#include "daemon/ops/metric_catalog.h"

namespace sfkb::salesforce {
namespace {

const char* policy_name(config::InvalidReplayPolicy policy) {
  switch (policy) {
    case config::InvalidReplayPolicy::kEarliest:
      return "earliest";
    case config::InvalidReplayPolicy::kLatest:
      return "latest";
    case config::InvalidReplayPolicy::kFail:
      return "fail";
  }
  return "unknown";
}

}  // namespace

core::Result<core::ReplayId> invalid_replay_fallback(
    std::string_view source, const ChannelSubscription& channel, const std::string& what,
    const core::ReplayId& refused, ops::Metrics& metrics,
    std::string (*start_name)(core::ReplayPreset)) {
  auto log = ops::logger(source);
  metrics.counter(ops::Metric::kInvalidReplayFallbacks, {channel.channel}).inc();
  if (channel.on_invalid_replay_id == config::InvalidReplayPolicy::kFail) {
    log->error("{}; on_invalid_replay_id=fail - stopping; events after it may have been missed",
               what);
    return core::fatal_error(std::string(source) + ": " + what + "; on_invalid_replay_id=fail");
  }
  const core::ReplayPreset preset =
      channel.on_invalid_replay_id == config::InvalidReplayPolicy::kEarliest
          ? core::ReplayPreset::kEarliest
          : core::ReplayPreset::kLatest;
  ops::warn(
      log,
      "EVENTS MAY HAVE BEEN MISSED OR REPLAYED: {}; resubscribing from {} ({}, per {}). Missed: "
      "events after {} that are no longer retained{}. Replayed: retained events already in Kafka "
      "are written again (the channel's duplicate filter and checkpoint restart with the new "
      "subscription)",
      what, start_name(preset), core::describe(preset),
      ops::field("on_invalid_replay_id", policy_name(channel.on_invalid_replay_id)), refused.text(),
      preset == core::ReplayPreset::kLatest ? " and every event until the resubscription" : "");
  return core::ReplayId::cometd(preset);
}

}  // namespace sfkb::salesforce
