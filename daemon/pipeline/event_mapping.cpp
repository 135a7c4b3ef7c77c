#include "daemon/pipeline/event_mapping.h"

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
      return std::to_string(event.replay_id);
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

}  // namespace

bool single_partition_per_channel(const config::SubscribeMapping& mapping) {
  return mapping.key == config::KeyKind::kNone;
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
  record.value =
      mapping.value == config::ValueKind::kEnvelope ? event.envelope_json : event.payload_json;

  if (mapping.key == config::KeyKind::kNone) {
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
    record.headers.reserve(7);
    record.headers.emplace_back(kHeaderChannel, event.channel);
    record.headers.emplace_back(kHeaderReplayId, std::to_string(event.replay_id));
    // EventUuid exists from API 52.0 only; an absent value is left out rather than sent empty.
    if (!event.event_uuid.empty()) {
      record.headers.emplace_back(kHeaderEventUuid, event.event_uuid);
    }
    if (!event.schema.empty()) {
      record.headers.emplace_back(kHeaderSchema, event.schema);
    }
    if (!event.created_date.empty()) {
      record.headers.emplace_back(kHeaderCreatedDate, event.created_date);
    }
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
