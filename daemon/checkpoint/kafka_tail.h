#pragma once
// What start-up reconciliation needs from Kafka: read a partition back from its newest record.
// The real implementation (kafka_adapters/tail_reader.h) wraps the Kafka module's TailReader; unit
// tests use an in-memory log.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "daemon/core/replay_id.h"
#include "daemon/core/result.h"

namespace sfkb::checkpoint {

// The headers of a record the subscribe pipeline wrote (event_mapping.h), as read back.
struct TailRecord {
  std::int64_t offset = 0;
  std::optional<std::string> channel;       // sf.channel
  std::optional<core::ReplayId> replay_id;  // sf.replay_id
  std::optional<std::string> org_id;        // sf.org_id (absent: older records, org unknown)
  std::uint32_t epoch = 0;                  // sf.replay_epoch (absent: 0)
  // sf.replay_id is a position of the channel's other API (the channel was delivered by CometD
  // and is now by the Pub/Sub API, or the reverse): replay_id is then unset.
  bool other_api = false;
  std::optional<std::string> event_uuid;    // sf.event_uuid (platform events)
  std::optional<std::string> created_date;  // sf.created_date (RFC 3339, UTC)
};

class KafkaTail {
 public:
  virtual ~KafkaTail() = default;
  // The topic's partition count; kFatal when the topic does not exist (the bridge does not create
  // topics: Heroku's multi-tenant plans forbid it).
  virtual core::Result<std::int32_t> partition_count(const std::string& topic) = 0;
  // Visits the partition's records from the newest to the oldest until `visit` returns false or
  // the oldest retained record was visited.
  virtual core::Status read_backwards(const std::string& topic, std::int32_t partition,
                                      const std::function<bool(const TailRecord&)>& visit) = 0;
};

}  // namespace sfkb::checkpoint
