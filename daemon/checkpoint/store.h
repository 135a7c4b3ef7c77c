#pragma once
// The seam between the subscribe pipeline and wherever checkpoints live (docs/ARCHITECTURE.md §3):
// the pipeline loads once at start and saves the whole map at every interval and at shutdown. The
// file implementation is file_store.h; tests use an in-memory one.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "daemon/core/replay_id.h"
#include "daemon/core/result.h"

namespace sfkb::checkpoint {

struct ChannelCheckpoint {
  // Every event of the channel up to and including this replay ID is acknowledged by Kafka.
  core::ReplayId replay_id;
  std::string updated;  // RFC 3339 UTC time of the last change, for operators
  // Key-less channels only: the partition the channel's events were written to. Pinned because
  // the hash of the channel name changes when partitions are added to the topic, and moving the
  // channel would break its order and the Kafka-tail resume (docs/ARCHITECTURE.md §4).
  std::optional<std::int32_t> partition;
  // How many times the channel's subscription restarted from a fallback (sf.replay_epoch of its
  // records): replay_id counts in this restart's sequence, and Kafka records of an older one are
  // not a resume point. After a restart and before the first acknowledged event, replay_id is
  // the fallback itself (a core::ReplayPreset).
  std::uint32_t epoch = 0;
  // The org replay_id belongs to (sf.org_id); empty: unknown (files of older versions, the
  // access_token flow).
  std::string org_id;
};

// Keyed by channel name (/event/X__e).
using Checkpoints = std::map<std::string, ChannelCheckpoint>;

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  // Nothing stored yet -> an empty map. Unreadable, corrupt or of an unknown version -> kFatal
  // naming the location: resetting silently to "latest" would lose events.
  virtual core::Result<Checkpoints> load() = 0;
  // Replaces what is stored, atomically: a crash leaves either the old or the new content.
  virtual core::Status save(const Checkpoints& checkpoints) = 0;
  // Where the checkpoints live, for logs and the `checkpoints` command.
  virtual std::string location() const = 0;
};

// The current UTC time as RFC 3339 with milliseconds, e.g. 2026-11-26T17:40:00.123Z.
std::string utc_now_rfc3339();

}  // namespace sfkb::checkpoint
