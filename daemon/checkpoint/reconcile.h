#pragma once
// Start-up reconciliation (docs/ARCHITECTURE.md §4): where each channel resumes, from the
// checkpoint file and what Kafka already holds. The one rule: never resume past an event that is
// not in Kafka, and skip every replayed event that is already there.
//
//  - one partition per channel (no key): the channel's newest record in its partition is an exact
//    resume point (the idempotent, gapless producer writes each partition as a prefix of what was
//    sent to it). Resume from max(file, that record's sf.replay_id) - exact even without a file.
//  - several partitions per channel (a key): the newest record of one partition proves nothing
//    about the others. Resume from the file and collect the replay IDs Kafka holds above it as a
//    skip set. Without a file, resume from the lowest per-partition newest replay ID, with the
//    same skip set, and warn: an event sent to a partition that holds nothing of the channel
//    cannot be proven either way.
//  - headers off: Kafka cannot be read back by channel; the file alone decides, with a warning.
// Several channels may share a topic, so records are matched by their sf.channel header.
//
// Restarts and orgs: a channel whose subscription restarted from a fallback (a replay ID
// Salesforce refused, an org change) counts a new epoch (the file's "epoch", the records'
// sf.replay_epoch): only the newest epoch's records and file value are a position, older ones
// belong to a replay-ID sequence Salesforce no longer knows. Records and file values of another
// org (sf.org_id / "org_id" differ from the current org; either unknown: accepted) are never a
// resume point; when nothing of the current org is left the channel must restart from its
// on_invalid_replay_id fallback (`restart`).

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <chrono>
#include "daemon/checkpoint/channel_partition.h"
#include "daemon/checkpoint/kafka_tail.h"
#include "daemon/checkpoint/store.h"
#include "daemon/config/config.h"

#include "daemon/core/replay_id.h"
#include "daemon/core/result.h"

namespace sfkb::checkpoint {

enum class ResumeMode { kSinglePartition, kMultiPartition, kFileOnly };
const char* to_string(ResumeMode mode);

struct ChannelResume {
  std::string channel;
  std::string topic;  // with prefix
  ResumeMode mode = ResumeMode::kSinglePartition;
  std::optional<std::int32_t> partition;       // kSinglePartition: the channel's partition
  std::optional<core::ReplayId> file;          // the checkpoint file's value
  std::optional<core::ReplayId> kafka_newest;  // newest sf.replay_id of the channel in Kafka
  // Where the subscription resumes (events after it are replayed); nullopt: the configured start.
  std::optional<core::ReplayId> resume;
  std::set<core::ReplayId> skip;  // replay IDs above `resume` that Kafka already holds
  // With `resume` at the earliest preset (every retained event is replayed): the EventUuids of the
  // channel's retained records already in Kafka, to skip (platform events only).
  std::set<std::string> skip_uuids;
  // The channel's newest position is of its other API (subscribe[].api changed): it resumes from
  // the earliest preset in a new epoch, skipping by EventUuid (README.md "Switching a channel's
  // API").
  bool api_switch = false;
  std::int64_t records_scanned = 0;
  std::vector<std::string> warnings;  // each is also worth a WARN log line
  // The epoch the channel goes on in (with `restart`: the new one, above every epoch seen).
  std::uint32_t epoch = 0;
  // Only another org's positions were found: resubscribe from the on_invalid_replay_id fallback.
  bool restart = false;
  std::string foreign_org;                          // the other org seen, for the warning
  std::optional<core::ReplayId> foreign_replay_id;  // its position (not used)
  // What the file said, what the tail said, which won and why (a DEBUG log line).
  std::string decision;
};

struct ReconcileOptions {
  // A bound on how far one partition is read back; reaching it is a warning, not an error
  // (the answer then rests on the file).
  std::int64_t max_records_per_partition = 5'000'000;
  // The hash for key-less channels (channel_partition.h): kafka_adapters::partition_by_channel_name
  // in the daemon.
  PartitionForChannel partition_for_channel;
  // The org the bridge is connected to now; empty: unknown (no org check).
  std::string org_id;
  // RFC 3339 UTC time (store.h utc_now_rfc3339's form) before which Salesforce retains no event:
  // collecting EventUuids stops at the first older record of a partition. Empty: no time bound.
  std::string retained_since;
};

// now minus Salesforce's retention of platform events (72 h) and an hour's margin, in the form of
// ReconcileOptions::retained_since.
std::string retention_cutoff(std::chrono::system_clock::time_point now);

// kFatal when a topic is missing or a partition cannot be read: resuming blind could duplicate.
core::Result<std::vector<ChannelResume>> reconcile(const config::Config& config,
                                                   const Checkpoints& file, KafkaTail& kafka,
                                                   const ReconcileOptions& options);

}  // namespace sfkb::checkpoint
