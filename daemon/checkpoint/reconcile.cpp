#include "daemon/checkpoint/reconcile.h"

#include <algorithm>
#include <ctime>

namespace sfkb::checkpoint {
namespace {

// The newest record of the channel in one partition, whatever its org and epoch.
struct Newest {
  std::optional<core::ReplayId> replay_id;
  std::uint32_t epoch = 0;
  std::string org_id;  // empty: the record has none
  bool truncated = false;
};

struct Collected {
  std::optional<core::ReplayId> newest;  // newest replay ID collected (or at the floor)
  bool truncated = false;
};

bool foreign(const std::string& org, const ReconcileOptions& options) {
  return !org.empty() && !options.org_id.empty() && org != options.org_id;
}

std::string text(const std::optional<core::ReplayId>& value) {
  return value ? value->text() : std::string("none");
}

std::string describe(const std::optional<core::ReplayId>& replay_id, std::uint32_t epoch,
                     const std::string& org) {
  if (!replay_id) {
    return "nothing";
  }
  return replay_id->text() + " (epoch " + std::to_string(epoch) + ", org " +
         (org.empty() ? std::string("unknown") : org) + ")";
}

// Reads `partition` back to the channel's newest record.
core::Result<Newest> newest(KafkaTail& kafka, const std::string& topic, std::int32_t partition,
                            const std::string& channel, std::int64_t& scanned,
                            std::int64_t max_records) {
  Newest result;
  std::int64_t seen = 0;
  auto status = kafka.read_backwards(topic, partition, [&](const TailRecord& record) {
    if (++seen > max_records) {
      result.truncated = true;
      return false;
    }
    if (!record.channel || *record.channel != channel || !record.replay_id) {
      return true;
    }
    result.replay_id = record.replay_id;
    result.epoch = record.epoch;
    result.org_id = record.org_id.value_or(std::string());
    return false;
  });
  scanned += std::min(seen, max_records);
  if (!status) {
    return status.error();
  }
  return result;
}

// Reads `partition` back collecting the channel's replay IDs above `floor` into `skip`. Stops at
// the first record of the channel at or below the floor, of an older epoch or of another org:
// a partition holds a channel in order, so everything older is of the past too.
core::Result<Collected> collect(KafkaTail& kafka, const std::string& topic, std::int32_t partition,
                                const std::string& channel, const core::ReplayId& floor,
                                std::uint32_t epoch, const ReconcileOptions& options,
                                std::set<core::ReplayId>& skip, std::int64_t& scanned) {
  Collected result;
  std::int64_t seen = 0;
  auto status = kafka.read_backwards(topic, partition, [&](const TailRecord& record) {
    if (++seen > options.max_records_per_partition) {
      result.truncated = true;
      return false;
    }
    if (!record.channel || *record.channel != channel || !record.replay_id) {
      return true;
    }
    if (record.epoch < epoch || foreign(record.org_id.value_or(std::string()), options)) {
      return false;
    }
    const core::ReplayId& id = *record.replay_id;
    if (!result.newest) {
      result.newest = id;
    }
    if (id <= floor) {
      return false;
    }
    skip.insert(id);
    return true;
  });
  scanned += std::min(seen, options.max_records_per_partition);
  if (!status) {
    return status.error();
  }
  return result;
}

std::string bound_warning(const std::string& topic, std::int32_t partition, std::int64_t max) {
  return "stopped reading " + topic + "[" + std::to_string(partition) + "] back after " +
         std::to_string(max) + " records; the resume point rests on the checkpoint file";
}

// What the checkpoint file says about the channel, and whether it may be used.
struct FileView {
  const ChannelCheckpoint* entry = nullptr;
  bool usable = false;
};

FileView file_view(const Checkpoints& file, const std::string& channel,
                   const ReconcileOptions& options, ChannelResume& out) {
  FileView view;
  if (auto it = file.find(channel); it != file.end()) {
    view.entry = &it->second;
    out.file = it->second.replay_id;
    view.usable = !foreign(it->second.org_id, options);
    if (!view.usable) {
      out.foreign_org = it->second.org_id;
      out.foreign_replay_id = it->second.replay_id;
      out.warnings.push_back("the checkpoint file's replay ID " + it->second.replay_id.text() +
                             " belongs to org " + it->second.org_id +
                             ", but the bridge is connected to org " + options.org_id +
                             ": not used as a resume point");
    }
  }
  return view;
}

void note_foreign_tail(const Newest& tail, std::int32_t partition, const ReconcileOptions& options,
                       ChannelResume& out) {
  if (out.foreign_org.empty()) {
    out.foreign_org = tail.org_id;
  }
  if (!out.foreign_replay_id) {
    out.foreign_replay_id = tail.replay_id;
  }
  out.warnings.push_back(
      "the channel's newest record in " + out.topic + "[" + std::to_string(partition) +
      "] (replay ID " + text(tail.replay_id) + ") comes from org " + tail.org_id +
      ", but the bridge is connected to org " + options.org_id + ": not used as a resume point");
}

// Nothing of the current org is left: the channel restarts from its fallback in a new epoch.
void restart_after(std::uint32_t highest_epoch, ChannelResume& out) {
  out.restart = true;
  out.resume.reset();
  out.epoch = highest_epoch + 1;
}

core::Status reconcile_single(const config::SubscribeMapping& mapping, std::int32_t partitions,
                              const Checkpoints& file, KafkaTail& kafka,
                              const ReconcileOptions& options, ChannelResume& out) {
  // Any warning about a changed partition count is the pipeline's to log, once, at start-up.
  std::int32_t partition =
      choose_channel_partition(mapping.channel, partitions, file, options.partition_for_channel)
          .partition;
  out.partition = partition;
  const FileView view = file_view(file, mapping.channel, options, out);
  auto tail = newest(kafka, out.topic, partition, mapping.channel, out.records_scanned,
                     options.max_records_per_partition);
  if (!tail) {
    return tail.error();
  }
  if (tail->truncated) {
    out.warnings.push_back(bound_warning(out.topic, partition, options.max_records_per_partition));
  }
  const bool tail_ours = tail->replay_id && !foreign(tail->org_id, options);
  if (tail->replay_id && !tail_ours) {
    note_foreign_tail(*tail, partition, options, out);
  }
  const std::uint32_t file_epoch = view.entry ? view.entry->epoch : 0;
  const std::string said =
      "file said " +
      (view.entry ? describe(view.entry->replay_id, view.entry->epoch, view.entry->org_id)
                  : std::string("nothing")) +
      ", Kafka's newest record said " + describe(tail->replay_id, tail->epoch, tail->org_id);
  if (tail_ours) {
    out.kafka_newest = tail->replay_id;
  }
  if (view.usable && tail_ours && tail->epoch != file_epoch) {
    // A restart happened: the newer epoch is the channel's position, the other one is void.
    if (tail->epoch > file_epoch) {
      out.resume = tail->replay_id;
      out.epoch = tail->epoch;
      out.decision = said + "; Kafka wins: its record is of a later restart than the file";
    } else {
      out.resume = out.file;
      out.epoch = file_epoch;
      out.kafka_newest.reset();
      out.decision = said + "; the file wins: Kafka's record is from before the channel restarted";
    }
  } else if (view.usable || tail_ours) {
    out.resume = view.usable ? out.file : std::nullopt;
    out.epoch = view.usable ? file_epoch : tail->epoch;
    if (tail_ours && (!out.resume || *tail->replay_id > *out.resume)) {
      out.resume = tail->replay_id;
      out.epoch = tail->epoch;
      out.decision = said + "; Kafka wins: it holds events past the file";
    } else {
      out.decision = said + (view.usable ? "; the file wins" : "; no position");
    }
  } else if (view.entry || tail->replay_id) {
    restart_after(std::max(file_epoch, tail->epoch), out);
    out.decision = said + "; neither is of org " + options.org_id + ": restart from the fallback";
  } else {
    out.decision = said + "; the configured start";
  }
  return core::Status::ok();
}

core::Status reconcile_multi(const config::SubscribeMapping& mapping, std::int32_t partitions,
                             const Checkpoints& file, KafkaTail& kafka,
                             const ReconcileOptions& options, ChannelResume& out) {
  const FileView view = file_view(file, mapping.channel, options, out);
  const std::uint32_t file_epoch = view.entry ? view.entry->epoch : 0;
  // First each partition's newest record of the channel: the newest epoch of the current org,
  // and the lowest newest replay ID of that epoch (the floor when the file is of no use).
  std::vector<Newest> tails;
  std::optional<std::uint32_t> tail_epoch;
  std::uint32_t highest_epoch = file_epoch;
  for (std::int32_t p = 0; p < partitions; ++p) {
    auto result = newest(kafka, out.topic, p, mapping.channel, out.records_scanned,
                         options.max_records_per_partition);
    if (!result) {
      return result.error();
    }
    if (result->replay_id) {
      highest_epoch = std::max(highest_epoch, result->epoch);
      if (foreign(result->org_id, options)) {
        note_foreign_tail(*result, p, options, out);
      } else {
        tail_epoch = std::max(tail_epoch.value_or(0), result->epoch);
      }
    }
    tails.push_back(std::move(result).value());
  }
  std::optional<core::ReplayId> lowest;
  if (tail_epoch) {
    for (const auto& tail : tails) {
      if (tail.replay_id && tail.epoch == *tail_epoch && !foreign(tail.org_id, options)) {
        lowest = lowest ? std::min(*lowest, *tail.replay_id) : *tail.replay_id;
      }
    }
  }
  const std::string said =
      "file said " +
      (view.entry ? describe(view.entry->replay_id, file_epoch, view.entry->org_id)
                  : std::string("nothing")) +
      ", Kafka's lowest per-partition newest record of the newest epoch said " +
      (tail_epoch ? describe(lowest, *tail_epoch, options.org_id) : std::string("nothing"));

  core::ReplayId floor;
  if (view.usable && (!tail_epoch || *tail_epoch <= file_epoch)) {
    floor = *out.file;
    out.epoch = file_epoch;
    out.decision = said + "; the file is the floor" +
                   (tail_epoch && *tail_epoch < file_epoch
                        ? " (Kafka's records are from before the channel restarted)"
                        : "");
  } else if (tail_epoch) {
    floor = *lowest;
    out.epoch = *tail_epoch;
    out.warnings.push_back(
        std::string(view.usable ? "the checkpoint file is from before the channel's last restart"
                                : "no usable checkpoint") +
        " for a channel spread over " + std::to_string(partitions) +
        " partitions: resuming after the lowest per-partition newest replay ID " + floor.text() +
        "; an event sent to a partition that holds nothing of the channel cannot be accounted "
        "for");
    out.decision = said + "; Kafka's lowest newest is the floor";
  } else if (view.entry || highest_epoch > 0 || !out.foreign_org.empty()) {
    restart_after(highest_epoch, out);
    out.decision = said + "; nothing is of org " + options.org_id + ": restart from the fallback";
    return core::Status::ok();
  } else {
    out.decision = said + "; the configured start";
    return core::Status::ok();  // nothing in Kafka: the configured start
  }
  out.resume = floor;
  for (std::int32_t p = 0; p < partitions; ++p) {
    auto result = collect(kafka, out.topic, p, mapping.channel, floor, out.epoch, options, out.skip,
                          out.records_scanned);
    if (!result) {
      return result.error();
    }
    if (result->newest) {
      out.kafka_newest =
          out.kafka_newest ? std::max(*out.kafka_newest, *result->newest) : *result->newest;
    }
    if (result->truncated) {
      out.warnings.push_back(bound_warning(out.topic, p, options.max_records_per_partition));
    }
  }
  return core::Status::ok();
}

core::ReplayId::Kind kind_of(const config::SubscribeMapping& mapping) {
  return mapping.api == config::EventApi::kPubsub ? core::ReplayId::Kind::kOpaque
                                                  : core::ReplayId::Kind::kCometd;
}

std::vector<std::int32_t> partitions_of(const config::SubscribeMapping& mapping,
                                        std::int32_t partitions, const Checkpoints& file,
                                        const ReconcileOptions& options) {
  if (single_partition_per_channel(mapping)) {
    return {
        choose_channel_partition(mapping.channel, partitions, file, options.partition_for_channel)
            .partition};
  }
  std::vector<std::int32_t> all;
  for (std::int32_t p = 0; p < partitions; ++p) {
    all.push_back(p);
  }
  return all;
}

// The channel's newest position, in the file or in Kafka, of the current org: when it is of the
// channel's other API, the epoch it belongs to (the switch goes on in the next one). A switch
// always starts a new epoch, so positions of both APIs never share one.
core::Result<std::optional<std::uint32_t>> other_api_epoch(
    const config::SubscribeMapping& mapping, const std::vector<std::int32_t>& partitions,
    const std::string& topic, const Checkpoints& file, KafkaTail& kafka,
    const ReconcileOptions& options, std::int64_t& scanned) {
  bool seen = false;
  std::uint32_t top = 0;
  bool other_at_top = false;
  const auto consider = [&](std::uint32_t epoch, bool other) {
    if (!seen || epoch > top) {
      top = epoch;
      other_at_top = other;
      seen = true;
    } else if (epoch == top) {
      other_at_top = other_at_top || other;
    }
  };
  if (auto it = file.find(mapping.channel);
      it != file.end() && !foreign(it->second.org_id, options)) {
    const auto& id = it->second.replay_id;
    consider(it->second.epoch, id.names_event() && id.kind() != kind_of(mapping));
  }
  for (const std::int32_t partition : partitions) {
    std::int64_t seen_records = 0;
    auto status = kafka.read_backwards(topic, partition, [&](const TailRecord& record) {
      if (++seen_records > options.max_records_per_partition) {
        return false;
      }
      if (!record.channel || *record.channel != mapping.channel ||
          (!record.replay_id && !record.other_api) ||
          foreign(record.org_id.value_or(std::string()), options)) {
        return true;
      }
      consider(record.epoch, record.other_api);
      return false;
    });
    scanned += std::min(seen_records, options.max_records_per_partition);
    if (!status) {
      return status.error();
    }
  }
  if (other_at_top) {
    return std::optional<std::uint32_t>(top);
  }
  return std::optional<std::uint32_t>();
}

// The EventUuids of the channel's records still retained by Salesforce (platform events only).
core::Status collect_uuids(const config::SubscribeMapping& mapping,
                           const std::vector<std::int32_t>& partitions, KafkaTail& kafka,
                           const ReconcileOptions& options, ChannelResume& out) {
  for (const std::int32_t partition : partitions) {
    std::int64_t seen = 0;
    bool truncated = false;
    auto status = kafka.read_backwards(out.topic, partition, [&](const TailRecord& record) {
      if (++seen > options.max_records_per_partition) {
        truncated = true;
        return false;
      }
      if (!record.channel || *record.channel != mapping.channel ||
          foreign(record.org_id.value_or(std::string()), options)) {
        return true;
      }
      if (!options.retained_since.empty() && record.created_date &&
          *record.created_date < options.retained_since) {
        return false;  // older than the retention window: a replay cannot bring it back
      }
      if (record.event_uuid && !record.event_uuid->empty()) {
        out.skip_uuids.insert(*record.event_uuid);
      }
      return true;
    });
    out.records_scanned += std::min(seen, options.max_records_per_partition);
    if (!status) {
      return status;
    }
    if (truncated) {
      out.warnings.push_back(
          bound_warning(out.topic, partition, options.max_records_per_partition) +
          " (EventUuids of older records are not skipped)");
    }
  }
  return core::Status::ok();
}

}  // namespace

std::string retention_cutoff(std::chrono::system_clock::time_point now) {
  const auto cutoff = std::chrono::floor<std::chrono::seconds>(now - std::chrono::hours(73));
  const std::time_t seconds = std::chrono::system_clock::to_time_t(cutoff);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buffer;
}

const char* to_string(ResumeMode mode) {
  switch (mode) {
    case ResumeMode::kSinglePartition:
      return "single-partition";
    case ResumeMode::kMultiPartition:
      return "multi-partition";
    case ResumeMode::kFileOnly:
      return "file-only";
  }
  return "?";
}

core::Result<std::vector<ChannelResume>> reconcile(const config::Config& config,
                                                   const Checkpoints& file, KafkaTail& kafka,
                                                   const ReconcileOptions& options) {
  std::vector<ChannelResume> out;
  for (const auto& mapping : config.subscribe) {
    ChannelResume resume;
    resume.channel = mapping.channel;
    resume.topic = config::full_topic(config.kafka, mapping.topic);
    if (!mapping.headers) {
      resume.mode = ResumeMode::kFileOnly;
      const FileView view = file_view(file, mapping.channel, options, resume);
      if (view.usable && resume.file->names_event() && resume.file->kind() != kind_of(mapping)) {
        // subscribe[].api changed; without headers nothing in Kafka says which events it holds.
        resume.api_switch = true;
        resume.resume = core::ReplayId::cometd(core::ReplayPreset::kEarliest);
        resume.epoch = view.entry->epoch + 1;
        resume.decision = "file said " + text(resume.file) + " of the channel's other API";
        resume.warnings.push_back(
            "the checkpoint is of the channel's other API (subscribe[].api changed): subscribing "
            "from the earliest retained event; without headers the events already in Kafka "
            "cannot be recognised and are written again");
      } else if (view.usable) {
        resume.resume = resume.file;
        resume.epoch = view.entry->epoch;
        resume.decision = "file said " + text(resume.file) + "; the file alone decides";
      } else if (view.entry) {
        restart_after(view.entry->epoch, resume);
        resume.decision = "file said " + text(resume.file) + " of org " + view.entry->org_id +
                          "; restart from the fallback";
      }
      resume.warnings.push_back(
          "headers are off for this mapping, so Kafka cannot be read back by channel: "
          "Kafka-tail reconciliation is off and the checkpoint file alone decides");
      out.push_back(std::move(resume));
      continue;
    }
    auto partitions = kafka.partition_count(resume.topic);
    if (!partitions) {
      return partitions.error();
    }
    const bool single = single_partition_per_channel(mapping);
    resume.mode = single ? ResumeMode::kSinglePartition : ResumeMode::kMultiPartition;
    const auto read = partitions_of(mapping, partitions.value(), file, options);
    auto switched =
        other_api_epoch(mapping, read, resume.topic, file, kafka, options, resume.records_scanned);
    if (!switched) {
      return switched.error();
    }
    if (*switched) {
      // The other API's replay IDs are another sequence: nothing of it is a position here.
      if (single) {
        resume.partition = read.front();
      }
      if (auto it = file.find(mapping.channel); it != file.end()) {
        resume.file = it->second.replay_id;
      }
      resume.api_switch = true;
      resume.resume = core::ReplayId::cometd(core::ReplayPreset::kEarliest);
      resume.epoch = **switched + 1;
      resume.warnings.push_back(
          "the channel's newest position is of its other API (subscribe[].api changed): "
          "subscribing from the earliest retained event as restart " +
          std::to_string(**switched + 1) +
          " of the channel; events whose EventUuid is already in Kafka are skipped" +
          (mapping.channel.starts_with("/event/")
               ? std::string()
               : std::string(" - this channel's events carry no EventUuid, so retained events "
                             "already in Kafka are written again")));
      resume.decision = "the channel's newest position (epoch " + std::to_string(**switched) +
                        ") is of its other API: every retained event is replayed in epoch " +
                        std::to_string(resume.epoch) +
                        ", skipping those whose EventUuid is in Kafka";
    } else {
      core::Status status =
          single ? reconcile_single(mapping, partitions.value(), file, kafka, options, resume)
                 : reconcile_multi(mapping, partitions.value(), file, kafka, options, resume);
      if (!status) {
        return status.error();
      }
    }
    // Every retained event comes again: the ones Kafka holds are known by their EventUuid.
    if (resume.resume && resume.resume->preset() == core::ReplayPreset::kEarliest &&
        mapping.channel.starts_with("/event/")) {
      if (auto status = collect_uuids(mapping, read, kafka, options, resume); !status) {
        return status.error();
      }
      resume.decision += "; " + std::to_string(resume.skip_uuids.size()) +
                         " EventUuids of retained records to skip";
    }
    out.push_back(std::move(resume));
  }
  return out;
}

}  // namespace sfkb::checkpoint
