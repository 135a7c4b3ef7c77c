#include "daemon/pipeline/event_mapping.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sfkb::pipeline {
namespace {

std::string key_for(const salesforce::StreamEvent& event, const config::SubscribeMapping& mapping,
                    bool& missing) {
  missing = false;
  switch (mapping.key) {
    case config::KeyKind::kEventUuid:
      missing = event.event_uuid.empty();
      return event.event_uuid;
    case config::KeyKind::kReplayId:
      return event.replay_id.text();
    case config::KeyKind::kPayloadField: {
      auto value = payload_field(event.payload_json, mapping.key_field);
      missing = !value.has_value();
      return value.value_or(std::string());
    }
    case config::KeyKind::kNone:
      break;
  }
  return {};
}

// The elements of an array of strings joined by ','. Salesforce record IDs hold no ',', so the
// join is unambiguous for recordIds.
std::string join_strings(const rapidjson::Value& array) {
  std::string out;
  for (const auto& element : array.GetArray()) {
    if (!out.empty()) {
      out += ',';
    }
    out.append(element.GetString(), element.GetStringLength());
  }
  return out;
}

std::string join_ids(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) {
    if (!out.empty()) {
      out += ',';
    }
    out += id;
  }
  return out;
}

void add_headers(const salesforce::StreamEvent& event,
                 std::vector<std::pair<std::string, std::string>>& headers) {
  headers.emplace_back(kHeaderChannel, event.channel);
  headers.emplace_back(kHeaderReplayId, event.replay_id.text());
  auto add = [&headers](const char* name, const std::string& value) {
    if (!value.empty()) {
      headers.emplace_back(name, value);
    }
  };
  switch (event.kind) {
    case salesforce::EventKind::kPlatformEvent:
      // EventUuid exists from API 52.0 only.
      add(kHeaderEventUuid, event.event_uuid);
      add(kHeaderSchema, event.schema);
      add(kHeaderCreatedDate, event.created_date);
      break;
    case salesforce::EventKind::kPushTopic:
      add(kHeaderEventType, event.event_type);
      add(kHeaderCreatedDate, event.created_date);
      break;
    case salesforce::EventKind::kChangeEvent: {
      add(kHeaderSchema, event.schema);
      if (!event.change) {
        break;
      }
      const salesforce::ChangeEventHeader& change = *event.change;
      add(kHeaderChangeType, change.change_type);
      add(kHeaderEntityName, change.entity_name);
      add(kHeaderRecordIds, join_ids(change.record_ids));
      add(kHeaderTransactionKey, change.transaction_key);
      if (change.sequence_number) {
        add(kHeaderSequenceNumber, std::to_string(*change.sequence_number));
      }
      // A change event has no CreatedDate; its commit time is the closest equivalent, written
      // like the other kinds' so that one header reads the same on every topic.
      if (change.commit_timestamp) {
        add(kHeaderCreatedDate, iso8601_from_epoch_ms(*change.commit_timestamp).value_or(""));
      }
      break;
    }
  }
}

}  // namespace

std::optional<std::string> iso8601_from_epoch_ms(std::int64_t epoch_ms) {
  // 0000-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z; outside it the text would not be
  // ISO 8601's four-digit year (and the calendar arithmetic is kept far from overflow).
  constexpr std::int64_t kMin = -62167219200000;
  constexpr std::int64_t kMax = 253402300799999;
  if (epoch_ms < kMin || epoch_ms > kMax) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const sys_time<milliseconds> time{milliseconds(epoch_ms)};
  const auto day = floor<days>(time);
  const year_month_day date(day);
  const hh_mm_ss clock(floor<milliseconds>(time - day));
  char text[48];
  std::snprintf(
      text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return std::string(text);
}

std::optional<std::string> payload_field(const std::string& payload_json, const std::string& path) {
  rapidjson::Document doc;
  doc.Parse(payload_json.data(), payload_json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return std::nullopt;
  }
  const rapidjson::Value* node = &doc;
  std::string_view rest = path;
  while (true) {
    auto dot = rest.find('.');
    std::string_view name = rest.substr(0, dot);
    if (!node->IsObject()) {
      return std::nullopt;
    }
    auto member = node->FindMember(rapidjson::Value(
        rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size()))));
    if (member == node->MemberEnd()) {
      return std::nullopt;
    }
    node = &member->value;
    if (dot == std::string_view::npos) {
      break;
    }
    rest = rest.substr(dot + 1);
  }
  if (node->IsNull()) {
    return std::nullopt;
  }
  if (node->IsString()) {
    return std::string(node->GetString(), node->GetStringLength());
  }
  if (node->IsArray()) {
    if (node->Empty()) {
      return std::nullopt;
    }
    if (std::all_of(node->Begin(), node->End(),
                    [](const rapidjson::Value& element) { return element.IsString(); })) {
      return join_strings(*node);
    }
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  node->Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

MappedEvent map_event(const salesforce::StreamEvent& event, const ChannelRoute& route) {
  const config::SubscribeMapping& mapping = *route.mapping;
  MappedEvent out;
  KafkaRecord& record = out.record;
  record.topic = route.topic;
  record.value = route.encoder->encode(event);

  if (single_partition_per_channel(mapping)) {
    record.partition = route.channel_partition;
  } else {
    bool missing = false;
    std::string key = key_for(event, mapping, missing);
    if (missing) {
      // A null key would be scattered by the partitioner; the channel's own partition keeps such
      // events deterministic and in order among themselves.
      out.key_field_missing = true;
      record.partition = route.channel_partition;
    } else {
      record.key = std::move(key);
    }
  }

  if (mapping.headers) {
    record.headers.reserve(10);
    add_headers(event, record.headers);
    if (!route.org_id.empty()) {
      record.headers.emplace_back(kHeaderOrgId, route.org_id);
    }
    if (route.epoch > 0) {
      record.headers.emplace_back(kHeaderReplayEpoch, std::to_string(route.epoch));
    }
  }
  return out;
}

}  // namespace sfkb::pipeline
