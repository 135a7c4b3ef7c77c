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
                                         core::ReplayId::Kind replay_kind)
    : reader_(
          std::make_unique<kafka::TailReader>(kafka::ClientConfig(kafka, kafka::Role::kConsumer))),
      timeout_(timeout),
      replay_kind_(replay_kind) {}

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
        tail.replay_id = parse_replay_id(record.header(kafka::kHeaderReplayId), replay_kind_);
        tail.org_id = record.header(kafka::kHeaderOrgId);
        tail.epoch = parse_epoch(record.header(kafka::kHeaderReplayEpoch));
        return visit(tail);
      },
      timeout_, 500);
}

}  // namespace sfkb::kafka_adapters
