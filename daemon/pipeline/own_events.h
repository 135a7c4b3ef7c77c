#pragma once
// Echo suppression (README "Limits and loops"): when one event type is mapped both ways, every
// record the bridge publishes comes straight back on the subscribe side. A subscribe mapping with
// skip_own_events drops the events whose author is the user the bridge authenticated as. Who the
// author is depends on the channel kind (docs/SALESFORCE_PROTOCOL.md "Limits and allocations"):
//   platform event   payload.CreatedById
//   change event     ChangeEventHeader.commitUser
//   PushTopic        nobody: the notification names no user, so skip_own_events is refused there
// Pure functions, no I/O.

#include <optional>
#include <string>
#include <string_view>

#include "daemon/salesforce/event_source.h"

namespace sfkb::pipeline {

// The user ID that caused `event`, as the event names it; nullopt when its kind names none or the
// field is absent.
std::optional<std::string> event_author(const salesforce::StreamEvent& event);

// Salesforce IDs come as 15 case-sensitive characters or as 18 (the 15 plus a checksum suffix):
// the same user either way.
bool same_salesforce_id(std::string_view a, std::string_view b);

// True when `event` was caused by `user_id` (non-empty).
bool is_own_event(const salesforce::StreamEvent& event, const std::string& user_id);

}  // namespace sfkb::pipeline
