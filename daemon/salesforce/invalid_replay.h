#pragma once
// What a source does when Salesforce refuses a channel's replay ID (README "Replay IDs and
// restarts"): the channel's `on_invalid_replay_id` says whether to stop or to subscribe again from
// a preset. Shared by the CometD and the Pub/Sub source, so both count, log and decide alike.

#include <string>
#include <string_view>

#include "daemon/core/replay_id.h"
#include "daemon/core/result.h"
#include "daemon/ops/metrics.h"
#include "daemon/salesforce/event_source.h"

namespace sfkb::salesforce {

// Counts the refusal (sfkb_invalid_replay_fallbacks_total), then follows the channel's policy:
// `fail` logs an error and returns a fatal error naming `what`; `earliest` and `latest` log the
// warning an operator must not miss (events may have been missed or replayed) and return the
// preset to subscribe from. `source` names the logger and the error ("cometd", "pubsub");
// `start_name` is how that source spells the preset in its own protocol (a fn of the preset).
core::Result<core::ReplayId> invalid_replay_fallback(std::string_view source,
                                                     const ChannelSubscription& channel,
                                                     const std::string& what,
                                                     const core::ReplayId& refused,
                                                     ops::Metrics& metrics,
                                                     std::string (*start_name)(core::ReplayPreset));

}  // namespace sfkb::salesforce
