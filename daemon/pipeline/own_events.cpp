#include "daemon/pipeline/own_events.h"

#include "daemon/pipeline/event_mapping.h"

namespace sfkb::pipeline {

std::optional<std::string> event_author(const salesforce::StreamEvent& event) {
  switch (event.kind) {
    case salesforce::EventKind::kPlatformEvent:
      return payload_field(event.payload_json, "CreatedById");
    case salesforce::EventKind::kChangeEvent:
      if (event.change && !event.change->commit_user.empty()) {
        return event.change->commit_user;
      }
      return std::nullopt;
    case salesforce::EventKind::kPushTopic:
      return std::nullopt;
  }
  return std::nullopt;
}

bool same_salesforce_id(std::string_view a, std::string_view b) {
  if (a.size() == b.size()) {
    return a == b;
  }
  if ((a.size() == 15 && b.size() == 18) || (a.size() == 18 && b.size() == 15)) {
    return a.substr(0, 15) == b.substr(0, 15);
  }
  return false;
}

bool is_own_event(const salesforce::StreamEvent& event, const std::string& user_id) {
  if (user_id.empty()) {
    return false;
  }
  const auto author = event_author(event);
  return author && same_salesforce_id(*author, user_id);
}

}  // namespace sfkb::pipeline
