// `sf-kafka-bridge checkpoints --config F`: what the bridge would resume from, per channel - the
// checkpoint file's value, what Kafka holds, and the reconciled resume point (docs/ARCHITECTURE.md
// §4). Reads only; safe to run beside a live bridge.
#include "daemon/app/checkpoints_command.h"

#include <cstdio>
#include <exception>
#include <string>

#include "daemon/app/composition_root.h"
#include "daemon/app/exit_codes.h"
#include "daemon/checkpoint/reconcile.h"
#include "daemon/kafka_adapters/event_producer.h"

namespace sfkb::app {
namespace {

std::string text(const std::optional<core::ReplayId>& value, const char* none = "-") {
  return value ? value->text() : std::string(none);
}

std::string start_text(std::int64_t start) {
  if (start == core::kCometdLatest) {
    return "start (latest)";
  }
  if (start == core::kCometdEarliest) {
    return "start (earliest)";
  }
  return "start (" + std::to_string(start) + ")";
}

}  // namespace

int checkpoint_report(const config::Config& config) {
  // The store and the tail the daemon would use (composition_root.h).
  const auto store = make_checkpoint_store(config);
  auto file = store->load();
  if (!file) {
    std::fprintf(stderr, "checkpoints: %s\n", file.error().message.c_str());
    // checkpoint.store: kafka - a cluster that does not answer is not a corrupt store.
    return file.error().kind == core::ErrorKind::kRetry ? exit_code::kUnavailable
                                                        : exit_code::kSoftware;
  }
  std::printf("%s: %s (%zu channel(s))\n",
              config.checkpoint.store == config::CheckpointStoreKind::kKafka ? "checkpoint store"
                                                                             : "checkpoint file",
              store->location().c_str(), file->size());

  std::vector<checkpoint::ChannelResume> resumes;
  try {
    const auto tail = make_kafka_tail(config);
    checkpoint::ReconcileOptions options;
    options.partition_for_channel = kafka_adapters::partition_by_channel_name;
    auto result = checkpoint::reconcile(config, file.value(), *tail, options);
    if (!result) {
      std::fprintf(stderr, "checkpoints: reading Kafka back failed: %s\n",
                   result.error().message.c_str());
      return exit_code::kUnavailable;
    }
    resumes = std::move(result.value());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoints: cannot reach Kafka: %s\n", e.what());
    return exit_code::kUnavailable;
  }

  // No login here, so no org check: records and entries of any org count (the daemon itself
  // ignores another org's at start-up).
  std::printf("%-40s %-30s %-17s %-9s %-20s %-20s %-20s %-6s %s\n", "CHANNEL", "TOPIC", "MODE",
              "PARTITION", "FILE", "KAFKA_NEWEST", "RESUME_AFTER", "SKIP", "EPOCH");
  for (std::size_t i = 0; i < resumes.size(); ++i) {
    const auto& r = resumes[i];
    const std::string partition = r.partition ? std::to_string(*r.partition) : "-";
    std::printf(
        "%-40s %-30s %-17s %-9s %-20s %-20s %-20s %-6zu %u\n", r.channel.c_str(), r.topic.c_str(),
        checkpoint::to_string(r.mode), partition.c_str(), text(r.file).c_str(),
        r.mode == checkpoint::ResumeMode::kFileOnly ? "(not read)" : text(r.kafka_newest).c_str(),
        r.resume ? r.resume->text().c_str() : start_text(config.subscribe[i].start).c_str(),
        r.skip.size(), r.epoch);
    if (!r.decision.empty()) {
      std::printf("  decision: %s: %s\n", r.channel.c_str(), r.decision.c_str());
    }
    for (const auto& warning : r.warnings) {
      std::printf("  warning: %s: %s\n", r.channel.c_str(), warning.c_str());
    }
  }
  // Channels in the file that no mapping names any more: kept in the file, shown for operators.
  for (const auto& [channel, entry] : file.value()) {
    bool configured = false;
    for (const auto& mapping : config.subscribe) {
      configured = configured || mapping.channel == channel;
    }
    if (!configured) {
      std::printf("%-40s %-30s %-17s %-9s %-20s (not configured; kept in the file)\n",
                  channel.c_str(), "-", "-", "-", entry.replay_id.text().c_str());
    }
  }
  return 0;
}

}  // namespace sfkb::app
