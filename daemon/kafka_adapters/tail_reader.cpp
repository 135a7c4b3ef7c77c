#include "daemon/kafka_adapters/tail_reader.h"

#include <charconv>

#include "daemon/kafka/client_config.h"
#include "daemon/kafka/record_headers.h"

namespace sfkb::kafka_adapters {

using checkpoint::TailRecord;

namespace {

std::optional<core::ReplayId> parse_replay_id(const std::optional<std::string>& text,
                                              core::ReplayId::Kind kind) {
  if (!text) {
    return std::nullopt;
  }
  auto id = core::ReplayId::parse(kind, *text);
  if (!id) {
    return std::nullopt;  // somebody else's header of the same name: not ours to trust
  }
  return std::move(id).value();
}

std::uint32_t parse_epoch(const std::optional<std::string>& text) {
  if (!text) {
    return 0;
  }
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  return ec == std::errc() && end == text->data() + text->size() ? value : 0;
}

}  // namespace

TailReaderKafkaTail::TailReaderKafkaTail(const config::KafkaConfig& kafka,
                                         std::chrono::milliseconds timeout,
                                         core::ReplayId::Kind replay_kind,
                                         std::map<std::string, core::ReplayId::Kind> channel_kinds)
    : reader_(
          std::make_unique<kafka::TailReader>(kafka::ClientConfig(kafka, kafka::Role::kConsumer))),
      timeout_(timeout),
      replay_kind_(replay_kind),
      channel_kinds_(std::move(channel_kinds)) {}

core::Result<std::int32_t> TailReaderKafkaTail::partition_count(const std::string& topic) {
  return reader_->partition_count(topic, timeout_);
}

core::Status TailReaderKafkaTail::read_backwards(
    const std::string& topic, std::int32_t partition,
    const std::function<bool(const TailRecord&)>& visit) {
  // 500 per fetch: the single-partition case needs one record, a skip-set scan reads back about
  // a checkpoint interval's worth of events.
  return reader_->read_backwards(
      topic, partition,
      [&](const kafka::Record& record) {
        TailRecord tail;
        tail.offset = record.offset;
        tail.channel = record.header(kafka::kHeaderChannel);
        auto kind = replay_kind_;
        if (tail.channel) {
          if (const auto it = channel_kinds_.find(*tail.channel); it != channel_kinds_.end()) {
            kind = it->second;
          }
        }
        const auto text = record.header(kafka::kHeaderReplayId);
        tail.replay_id = parse_replay_id(text, kind);
        // A decimal number is CometD's, even where it happens to be valid base64 ("1042").
        const bool decimal = parse_replay_id(text, core::ReplayId::Kind::kCometd).has_value();
        if (kind == core::ReplayId::Kind::kOpaque && decimal) {
          tail.replay_id.reset();
          tail.other_api = true;
        } else if (kind == core::ReplayId::Kind::kCometd && !decimal) {
          tail.other_api = parse_replay_id(text, core::ReplayId::Kind::kOpaque).has_value();
        }
        tail.event_uuid = record.header(kafka::kHeaderEventUuid);
        tail.created_date = record.header(kafka::kHeaderCreatedDate);
        tail.org_id = record.header(kafka::kHeaderOrgId);
        tail.epoch = parse_epoch(record.header(kafka::kHeaderReplayEpoch));
        return visit(tail);
      },
      timeout_, 500);
}

}  // namespace sfkb::kafka_adapters
