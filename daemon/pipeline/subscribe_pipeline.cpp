#include "daemon/pipeline/subscribe_pipeline.h"

#include <algorithm>
#include <stdexcept>

#include "daemon/core/backoff.h"
#include "daemon/core/stop.h"
#include "daemon/ops/log.h"
#include "daemon/ops/log_fields.h"
#include "daemon/pipeline/own_events.h"

namespace sfkb::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

std::string optional_text(const std::optional<core::ReplayId>& value) {
  return value ? value->text() : std::string("none");
}

// sfkb_checkpoint_replay_id shows CometD's number; an opaque position has none to show.
void show_position(ops::Gauge& gauge, const core::ReplayId& position) {
  if (position.is_cometd()) {
    gauge.set(static_cast<double>(position.number()));
  }
}

// Retries `step` while it fails with kRetry (Kafka not reachable yet at start-up), with backoff,
// until it succeeds, fails otherwise, or stop is requested.
template <typename Step>
core::Status with_retry(const std::string& what, std::stop_token stop, Step step) {
  core::Backoff backoff({std::chrono::milliseconds(500), std::chrono::milliseconds(15000)});
  while (true) {
    core::Status status = step();
    if (status || status.kind() != core::ErrorKind::kRetry) {
      return status;
    }
    auto wait = backoff.next();
    ops::logger("subscribe")
        ->warn("{} failed: {}; retrying in {} ms", what, status.message(), wait.count());
    if (!core::interruptible_sleep(stop, wait)) {
      return core::Error{core::ErrorKind::kStopped, "stopped during start-up"};
    }
  }
}

}  // namespace

struct SubscribePipeline::Channel {
  const config::SubscribeMapping* mapping = nullptr;
  std::unique_ptr<ValueEncoder> encoder;
  ChannelRoute route;  // points at `encoder`
  checkpoint::DuplicateFilter filter;
  ops::Counter* produced = nullptr;
  ops::Counter* skipped = nullptr;
  ops::Counter* key_missing = nullptr;
  ops::Counter* dropped = nullptr;
  ops::Counter* own_skipped = nullptr;  // set: skip_own_events is on for this channel
  ops::Gauge* checkpoint_gauge = nullptr;
  // Set on the delivery thread when the channel's producer was fenced; read by the pipeline
  // thread, which then stops producing the channel.
  std::atomic<bool> fenced{false};
  // Shared with the metrics registry's callback, which may outlive the pipeline.
  std::shared_ptr<std::atomic<std::int64_t>> last_event_ns;
};

SubscribePipeline::SubscribePipeline(const config::Config& config, salesforce::EventSource& source,
                                     EventProducer& producer, checkpoint::CheckpointStore& store,
                                     checkpoint::KafkaTail& tail,
                                     checkpoint::ChannelProgress& progress,
                                     SubscribePipelineOptions options)
    : config_(config),
      source_(source),
      producer_(producer),
      store_(store),
      tail_(tail),
      progress_(progress),
      options_(std::move(options)),
      in_flight_gauge_(options_.metrics->gauge(ops::Metric::kInFlightEvents)),
      backpressure_gauge_(options_.metrics->gauge(ops::Metric::kSubscribeBackpressure)),
      checkpoint_writes_(options_.metrics->counter(ops::Metric::kCheckpointWrites)),
      checkpoint_failures_(options_.metrics->counter(ops::Metric::kCheckpointWriteFailures)) {
  if (!options_.value_encoder) {
    throw std::invalid_argument("SubscribePipelineOptions::value_encoder is not set");
  }
  auto& metrics = *options_.metrics;
  const auto started = now_ns();
  for (std::size_t i = 0; i < config_.subscribe.size(); ++i) {
    const auto& mapping = config_.subscribe[i];
    auto channel = std::make_unique<Channel>();
    channel->mapping = &mapping;
    channel->route.mapping = &mapping;
    channel->route.topic = config::full_topic(config_.kafka, mapping.topic);
    channel->encoder = options_.value_encoder(mapping);
    channel->route.encoder = channel->encoder.get();
    // sfkb_events_received_total is counted by the CometD client, where events come off the wire.
    channel->produced =
        &metrics.counter(ops::Metric::kEventsProduced, {mapping.channel, channel->route.topic});
    channel->skipped = &metrics.counter(ops::Metric::kEventsSkippedDuplicate, {mapping.channel});
    channel->key_missing = &metrics.counter(ops::Metric::kEventsKeyMissing, {mapping.channel});
    channel->dropped = &metrics.counter(ops::Metric::kEventsDropped, {mapping.channel});
    if (std::find(options_.skip_own_channels.begin(), options_.skip_own_channels.end(),
                  mapping.channel) != options_.skip_own_channels.end()) {
      channel->own_skipped = &metrics.counter(ops::Metric::kEventsSkippedOwn, {mapping.channel});
    }
    channel->checkpoint_gauge = &metrics.gauge(ops::Metric::kCheckpointReplayId, {mapping.channel});
    channel->last_event_ns = std::make_shared<std::atomic<std::int64_t>>(started);
    metrics.gauge_callback(ops::Metric::kSecondsSinceLastEvent, {mapping.channel},
                           [last = channel->last_event_ns] {
                             return static_cast<double>(now_ns() - last->load()) / 1e9;
                           });
    channel_index_.emplace(mapping.channel, i);
    channels_.push_back(std::move(channel));
  }
}

SubscribePipeline::~SubscribePipeline() = default;

bool SubscribePipeline::ready() const {
  return started_.load() && !stopping_.load() && source_.connected();
}

std::string SubscribePipeline::not_ready_reason() const {
  if (stopping_.load()) {
    return "stopping";
  }
  if (!started_.load()) {
    return "reconciling checkpoints with Kafka";
  }
  if (!source_.connected()) {
    return "CometD session not established";
  }
  return "ready";
}

std::vector<checkpoint::ChannelResume> SubscribePipeline::resumes() const {
  std::lock_guard lock(resumes_mutex_);
  return resumes_;
}

std::vector<std::string> SubscribePipeline::fenced_channels() const {
  std::vector<std::string> out;
  for (const auto& channel : channels_) {
    if (channel->fenced.load()) {
      out.push_back(channel->mapping->channel);
    }
  }
  return out;
}

core::Status SubscribePipeline::fatal_status() const {
  std::lock_guard lock(failure_mutex_);
  return core::fatal_error(failure_);
}

core::Status SubscribePipeline::run(std::stop_token stop) {
  auto log = ops::logger("subscribe");
  core::Status status = start_up(stop);
  if (!status) {
    if (status.kind() == core::ErrorKind::kStopped) {
      return core::Status::ok();
    }
    log->error("start-up failed: {}", status.message());
    return status;
  }
  producer_.set_delivery_handler([this](const DeliveryReport& report) { on_delivery(report); });
  delivery_thread_ = std::jthread([this](std::stop_token token) { delivery_loop(token); });
  started_ = true;

  // Pulling stops on the caller's stop and on a failed delivery, which may happen while the
  // pipeline thread sits in a long poll.
  std::stop_callback forward(stop, [this] { pull_stop_.request_stop(); });
  core::Status pumped = pump(pull_stop_.get_token());
  stopping_ = true;
  if (!pumped && pumped.kind() != core::ErrorKind::kStopped) {
    log->error("stopping after a fatal error: {}", pumped.message());
  }
  core::Status down = shut_down();
  if (!pumped && pumped.kind() != core::ErrorKind::kStopped) {
    return pumped;
  }
  return down;
}

core::Status SubscribePipeline::start_up(std::stop_token stop) {
  auto log = ops::logger("subscribe");
  if (!options_.partition_for_channel) {
    return core::fatal_error("subscribe pipeline built without a partition_for_channel function");
  }
  // First: a transactional producer fences the channels' earlier owners and aborts what they left
  // open, so that the checkpoint topic and the Kafka tail read below are final.
  if (core::Status status = with_retry("initialising the Kafka producer", stop,
                                       [&] { return producer_.initialize(stop); });
      !status) {
    return status;
  }
  auto loaded = store_.load();
  if (!loaded) {
    return loaded.error();
  }
  checkpoints_ = loaded.value();

  // Routes first: a missing topic is a configuration problem worth stopping for.
  for (auto& channel : channels_) {
    core::Status status = with_retry(
        "reading the metadata of topic " + channel->route.topic, stop, [&]() -> core::Status {
          auto count = producer_.partition_count(channel->route.topic);
          if (!count) {
            return count.error();
          }
          auto chosen =
              checkpoint::choose_channel_partition(channel->mapping->channel, count.value(),
                                                   checkpoints_, options_.partition_for_channel);
          channel->route.channel_partition = chosen.partition;
          if (!chosen.warning.empty() && single_partition_per_channel(*channel->mapping)) {
            ops::warn(log, "{} {} {}", ops::field("channel", channel->mapping->channel),
                      ops::field("topic", channel->route.topic), chosen.warning);
          }
          return core::Status::ok();
        });
    if (!status) {
      return status;
    }
  }

  if (options_.org_id) {
    core::Status status = with_retry("obtaining the org ID", stop, [&]() -> core::Status {
      auto org = options_.org_id(stop);
      if (!org) {
        return org.error();
      }
      org_id_ = std::move(org).value();
      return core::Status::ok();
    });
    if (!status) {
      return status;
    }
  }
  ops::info(log, "{}",
            ops::field("org_id",
                       org_id_.empty() ? "unknown (no sf.org_id header, no org check)" : org_id_));
  if (!options_.skip_own_channels.empty()) {
    if (options_.user_id) {
      core::Status status = with_retry("obtaining the user ID", stop, [&]() -> core::Status {
        auto user = options_.user_id(stop);
        if (!user) {
          return user.error();
        }
        user_id_ = std::move(user).value();
        return core::Status::ok();
      });
      if (!status) {
        return status;
      }
    }
    if (user_id_.empty()) {
      return core::fatal_error(
          "skip_own_events needs the user the bridge authenticated as, and the token response "
          "named none (no identity URL): use an OAuth flow other than access_token");
    }
    log->info("skip_own_events: events published by user {} are dropped on {}", user_id_,
              fmt::join(options_.skip_own_channels, ","));
  }
  for (auto& channel : channels_) {
    channel->route.org_id = org_id_;
  }

  checkpoint::ReconcileOptions reconcile_options;
  reconcile_options.partition_for_channel = options_.partition_for_channel;
  reconcile_options.org_id = org_id_;
  std::vector<checkpoint::ChannelResume> resumes;
  core::Status status = with_retry("reconciling checkpoints with Kafka", stop, [&] {
    auto result = checkpoint::reconcile(config_, checkpoints_, tail_, reconcile_options);
    if (!result) {
      return core::Status(result.error());
    }
    resumes = std::move(result.value());
    return core::Status::ok();
  });
  if (!status) {
    return status;
  }

  saved_.assign(channels_.size(), {});
  for (std::size_t i = 0; i < resumes.size() && i < channels_.size(); ++i) {
    auto& resume = resumes[i];
    auto& channel = *channels_[i];
    for (const auto& warning : resume.warnings) {
      ops::warn(log, "{} {} {}", ops::field("channel", resume.channel),
                ops::field("topic", resume.topic), warning);
    }
    ops::debug(log, "{} {} reconciliation: {}", ops::field("channel", resume.channel),
               ops::field("topic", resume.topic), resume.decision);
    if (resume.restart) {
      // Only another org's positions: they are not a resume point, the fallback is.
      const auto policy = channel.mapping->on_invalid_replay_id;
      const std::string what = "the position of channel " + resume.channel + " (replay ID " +
                               optional_text(resume.foreign_replay_id) + ") belongs to org " +
                               resume.foreign_org + ", but the bridge is connected to org " +
                               org_id_ +
                               " (a sandbox refresh, or a checkpoint or topic of another org)";
      options_.metrics->counter(ops::Metric::kInvalidReplayFallbacks, {resume.channel}).inc();
      if (policy == config::InvalidReplayPolicy::kFail) {
        log->error("{}; on_invalid_replay_id=fail - stopping", what);
        return core::fatal_error(what + "; on_invalid_replay_id=fail");
      }
      const core::ReplayPreset preset = policy == config::InvalidReplayPolicy::kEarliest
                                            ? core::ReplayPreset::kEarliest
                                            : core::ReplayPreset::kLatest;
      resume.resume = core::ReplayId::cometd(preset);
      log->warn(
          "EVENTS MAY HAVE BEEN MISSED OR REPLAYED: {}; subscribing from {} ({}, per "
          "on_invalid_replay_id) as restart {} of the channel. Missed: events of org {} no longer "
          "retained{}. Replayed: none of org {} is in Kafka, so nothing is skipped",
          what, resume.resume->text(), core::describe(preset), resume.epoch, org_id_,
          preset == core::ReplayPreset::kLatest ? " and those before the subscription" : "",
          org_id_);
    }
    ops::info(
        log, "{} {} {} {} {} {} {} {} {} (read {} records back)",
        ops::field("channel", resume.channel), ops::field("topic", resume.topic),
        ops::field("partition", single_partition_per_channel(*channel.mapping)
                                    ? std::to_string(channel.route.channel_partition)
                                    : std::string("by key")),
        ops::field("mode", checkpoint::to_string(resume.mode)),
        ops::field("checkpoint", optional_text(resume.file)),
        ops::field("kafka_newest", optional_text(resume.kafka_newest)),
        ops::field("resume_after",
                   resume.resume ? resume.resume->text()
                                 : "configured start " + std::to_string(channel.mapping->start)),
        ops::field("skip", resume.skip.size()), ops::field("epoch", resume.epoch),
        resume.records_scanned);
    std::string org = org_id_;
    if (const auto it = checkpoints_.find(resume.channel); it != checkpoints_.end()) {
      saved_[i] = {it->second.replay_id, it->second.epoch, it->second.org_id};
      if (org.empty() && !resume.restart) {
        org = it->second.org_id;
      }
      show_position(*channel.checkpoint_gauge, it->second.replay_id);
    }
    progress_.seed(i, resume.resume, resume.epoch, org);
    channel.filter = checkpoint::DuplicateFilter(resume.resume, resume.skip);
    channel.route.epoch = resume.epoch;
  }
  {
    std::lock_guard lock(resumes_mutex_);
    resumes_ = std::move(resumes);
  }
  return core::Status::ok();
}

core::Status SubscribePipeline::pump(std::stop_token stop) {
  const std::size_t limit = std::max<std::size_t>(1, config_.limits.max_in_flight_events);
  std::vector<salesforce::StreamEvent> batch;
  while (!stop.stop_requested()) {
    if (failed_.load()) {
      return fatal_status();
    }
    if (!wait_for_room(limit, stop)) {
      return failed_.load() ? fatal_status() : core::Status::ok();
    }
    batch.clear();
    core::Status status = source_.next_batch(stop, batch);
    if (!status) {
      if (status.kind() == core::ErrorKind::kStopped) {
        break;
      }
      return status;
    }
    for (const auto& event : batch) {
      if (event.restart) {
        restart(event.channel, *event.restart);
        continue;
      }
      // limits.max_in_flight_events is exact: checked before every event, not only before each
      // connect, so one connect reply cannot overshoot it (it did, to bound + one batch). The
      // rest of the reply waits here, decoded but unsent; the next connect waits too.
      if (!wait_for_room(limit, stop)) {
        return failed_.load() ? fatal_status() : core::Status::ok();
      }
      status = handle(event, stop);
      if (!status) {
        if (status.kind() == core::ErrorKind::kStopped) {
          break;
        }
        return status;
      }
    }
  }
  return failed_.load() ? fatal_status() : core::Status::ok();
}

bool SubscribePipeline::wait_for_room(std::size_t limit, std::stop_token stop) {
  if (progress_.in_flight() < limit) {
    return true;
  }
  // Backpressure: no produce and no connect until Kafka catches up. Should Salesforce forget the
  // session meanwhile, the rehandshake resumes from the watermark, so nothing is lost.
  auto log = ops::logger("subscribe");
  backpressure_gauge_.set(1);
  const auto repeat = backpressure_warnings_.admit();
  if (repeat) {
    log->warn("{} events in flight (limit {}): pausing Salesforce until Kafka catches up{}",
              progress_.in_flight(), limit, repeat->suffix());
  }
  auto paused = Clock::now();
  // Resume only when a quarter of the bound is free again: resuming at the first free slot would
  // wake this thread for every single acknowledgement and produce one event at a time. The bound
  // stays exact (never more than `limit` in flight).
  const std::size_t resume_below = limit - limit / 4;
  while (!progress_.wait_below(resume_below, std::chrono::milliseconds(200), stop)) {
    if (stop.stop_requested()) {
      backpressure_gauge_.set(0);
      return false;
    }
  }
  backpressure_gauge_.set(0);
  if (repeat) {  // the pause that was logged is the one whose end is logged
    log->info("resuming after {} ms of backpressure; {} events in flight",
              std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - paused).count(),
              progress_.in_flight());
  }
  return true;
}

core::Status SubscribePipeline::handle(const salesforce::StreamEvent& event, std::stop_token stop) {
  auto found = channel_index_.find(event.channel);
  if (found == channel_index_.end()) {
    // The CometD client should not pass these on; if it does, say so once and count them.
    auto& counter = unconfigured_[event.channel];
    if (counter == nullptr) {
      counter = &options_.metrics->counter(ops::Metric::kEventsUnconfigured, {event.channel});
      ops::warn(ops::logger("subscribe"), "{} {} is not configured: ignoring its events",
                ops::field("channel", event.channel),
                ops::field("replay_id", event.replay_id.text()));
    }
    counter->inc();
    return core::Status::ok();
  }
  const std::size_t index = found->second;
  Channel& channel = *channels_[index];
  channel.last_event_ns->store(now_ns(), std::memory_order_relaxed);
  if (channel.fenced.load()) {
    return core::Status::ok();  // the channel's new owner writes it
  }

  switch (channel.filter.admit(event.replay_id)) {
    case checkpoint::DuplicateFilter::Verdict::kBelowHighWater:
      channel.skipped->inc();
      return core::Status::ok();
    case checkpoint::DuplicateFilter::Verdict::kInKafka:
      channel.skipped->inc();
      progress_.settled(index, event.replay_id);
      return core::Status::ok();
    case checkpoint::DuplicateFilter::Verdict::kNew:
      break;
  }

  if (channel.own_skipped != nullptr && is_own_event(event, user_id_)) {
    // The bridge's own echo: done without a record, like an event already in Kafka.
    channel.own_skipped->inc();
    progress_.settled(index, event.replay_id);
    return core::Status::ok();
  }

  if (options_.may_produce) {
    while (!options_.may_produce()) {
      core::interruptible_sleep(stop, std::chrono::milliseconds(50));
      if (stop.stop_requested()) {
        return core::Error{core::ErrorKind::kStopped, "stopped"};
      }
    }
  }

  MappedEvent mapped = map_event(event, channel.route);
  if (mapped.key_field_missing) {
    channel.key_missing->inc();
  }
  progress_.produced(index, event.replay_id);
  const DeliveryTag tag{static_cast<std::uint32_t>(index), event.replay_id, channel.route.epoch};
  while (true) {
    core::Status status = producer_.produce(mapped.record, tag);
    if (status) {
      in_flight_gauge_.set(static_cast<double>(progress_.in_flight()));
      return status;
    }
    switch (status.kind()) {
      case core::ErrorKind::kRetry: {
        // librdkafka's own queue is full: wait for one acknowledgement and try again.
        const std::size_t now = progress_.in_flight();
        progress_.wait_below(now, std::chrono::milliseconds(100), stop);
        if (stop.stop_requested()) {
          progress_.cancel(index, event.replay_id);
          return core::Error{core::ErrorKind::kStopped, "stopped"};
        }
        if (failed_.load()) {
          progress_.cancel(index, event.replay_id);
          return fatal_status();
        }
        continue;
      }
      case core::ErrorKind::kInvalidInput:
        // Kafka will never take this record. Stopping would stop the channel for good (every
        // restart replays it), so it is skipped loudly: this is a gap in the topic.
        progress_.cancel(index, event.replay_id);
        progress_.settled(index, event.replay_id);
        channel.dropped->inc();
        ops::error(ops::logger("subscribe"),
                   "{} {} {} {} cannot be produced: {}; the event is SKIPPED (see "
                   "sfkb_events_dropped_total)",
                   ops::field("channel", event.channel),
                   ops::field("replay_id", event.replay_id.text()),
                   ops::field("topic", channel.route.topic),
                   ops::field("value_bytes", mapped.record.value.size()), status.message());
        return core::Status::ok();
      default:
        progress_.cancel(index, event.replay_id);
        return core::fatal_error("producing channel=" + event.channel +
                                 " replay_id=" + event.replay_id.text() + " to " +
                                 channel.route.topic + ": " + status.message());
    }
  }
}

void SubscribePipeline::restart(const std::string& channel_name,
                                const salesforce::ChannelRestart& restart) {
  auto found = channel_index_.find(channel_name);
  if (found == channel_index_.end()) {
    return;
  }
  if (!restart.org_id.empty() && restart.org_id != org_id_) {
    // The subscription moved to another org: every record from now on says so.
    org_id_ = restart.org_id;
    for (auto& channel : channels_) {
      channel->route.org_id = org_id_;
    }
    progress_.adopt_org(org_id_);
  }
  const std::size_t index = found->second;
  Channel& channel = *channels_[index];
  const auto high_water = channel.filter.high_water();
  const std::size_t in_flight = progress_.in_flight();
  channel.filter = checkpoint::DuplicateFilter(restart.fallback);
  channel.route.epoch = progress_.restart(index, restart.fallback, org_id_);
  ops::warn(
      ops::logger("subscribe"),
      "{} restarted from {} (replay ID {} was void{}): restart {} of the channel; events up to "
      "replay ID {} of the old subscription are no longer skipped as duplicates, and the "
      "checkpoint holds {} until Kafka acknowledges an event of the new one ({} event(s) of all "
      "channels in flight)",
      ops::field("channel", channel_name), restart.fallback.text(),
      restart.refused_replay_id.text(),
      restart.previous_org_id.empty()
          ? std::string()
          : "; org " + restart.previous_org_id + " -> " + restart.org_id,
      channel.route.epoch, optional_text(high_water), restart.fallback.text(), in_flight);
}

void SubscribePipeline::on_delivery(const DeliveryReport& report) {
  if (report.tag.channel >= channels_.size()) {
    return;
  }
  if (report.status) {
    progress_.acknowledged(report.tag.channel, report.tag.replay_id, report.tag.epoch);
    channels_[report.tag.channel]->produced->inc();
    return;
  }
  if (report.fenced) {
    // Not written, and never will be by this instance: no longer in flight, and the watermark
    // stays below it (every later event of the channel is fenced too).
    Channel& channel = *channels_[report.tag.channel];
    const bool first = !channel.fenced.exchange(true);
    progress_.abandon(report.tag.channel);
    if (first) {
      options_.metrics->counter(ops::Metric::kSubscribeFenced, {channel.mapping->channel}).inc();
      ops::warn(ops::logger("subscribe"),
                "{} is owned by another instance now (fenced): this pipeline stops writing it",
                ops::field("channel", channel.mapping->channel));
      if (options_.on_fenced) {
        options_.on_fenced(channel.mapping->channel);
      }
    }
    return;
  }
  // Gapless and no message timeout: a failed delivery is final. The watermark stays below it, so
  // the checkpoint never passes it, and the next start replays it.
  bool first = !failed_.exchange(true);
  const std::string& channel_name = channels_[report.tag.channel]->mapping->channel;
  std::string message = "delivery of channel=" + channel_name +
                        " replay_id=" + report.tag.replay_id.text() +
                        " failed: " + report.status.message();
  if (first) {
    {
      std::lock_guard lock(failure_mutex_);
      failure_ = message;
    }
    ops::error(ops::logger("subscribe"),
               "delivery of {} {} failed: {}; the pipeline stops without moving the checkpoint "
               "past it",
               ops::field("channel", channel_name),
               ops::field("replay_id", report.tag.replay_id.text()), report.status.message());
    pull_stop_.request_stop();
  }
}

void SubscribePipeline::delivery_loop(std::stop_token stop) {
  auto next_checkpoint = Clock::now() + config_.checkpoint.interval;
  while (!stop.stop_requested()) {
    producer_.poll(options_.poll_interval);
    in_flight_gauge_.set(static_cast<double>(progress_.in_flight()));
    if (Clock::now() >= next_checkpoint) {
      write_checkpoint(false);
      next_checkpoint = Clock::now() + config_.checkpoint.interval;
    }
  }
}

core::Status SubscribePipeline::write_checkpoint(bool final) {
  std::lock_guard lock(checkpoint_mutex_);
  const auto marks = progress_.positions();
  bool changed = false;
  const std::string now = checkpoint::utc_now_rfc3339();
  for (std::size_t i = 0; i < marks.size(); ++i) {
    if (marks[i].replay_id && marks[i] != saved_[i]) {
      auto& entry = checkpoints_[channels_[i]->mapping->channel];
      entry.replay_id = *marks[i].replay_id;
      entry.epoch = marks[i].epoch;
      entry.org_id = marks[i].org_id;
      entry.updated = now;
      entry.partition = single_partition_per_channel(*channels_[i]->mapping)
                            ? std::optional<std::int32_t>(channels_[i]->route.channel_partition)
                            : std::nullopt;
      changed = true;
    }
  }
  if (!changed) {
    return core::Status::ok();
  }
  core::Status status = store_.save(checkpoints_);
  if (!status) {
    checkpoint_failures_.inc();
    if (auto repeat = checkpoint_warnings_.admit(); repeat || final) {  // else every interval
      ops::logger("checkpoint")
          ->warn("writing {} failed: {}{}{}", store_.location(), status.message(),
                 final ? "" : "; retrying at the next interval", repeat ? repeat->suffix() : "");
    }
    return status;
  }
  checkpoint_writes_.inc();
  for (std::size_t i = 0; i < marks.size(); ++i) {
    if (marks[i].replay_id && marks[i] != saved_[i]) {
      saved_[i] = marks[i];
      show_position(*channels_[i]->checkpoint_gauge, *marks[i].replay_id);
      if (final) {
        ops::info(ops::logger("checkpoint"), "{} {} {} checkpointed to {}",
                  ops::field("channel", channels_[i]->mapping->channel),
                  ops::field("replay_id", marks[i].replay_id->text()),
                  ops::field("epoch", marks[i].epoch), store_.location());
      }
    }
  }
  return core::Status::ok();
}

core::Status SubscribePipeline::shut_down() {
  auto log = ops::logger("subscribe");
  const std::size_t pending = progress_.in_flight();
  log->info("stopping: draining {} in-flight event(s)", pending);
  // The delivery thread stops first so that flush() alone serves the remaining reports.
  delivery_thread_.request_stop();
  if (delivery_thread_.joinable()) {
    delivery_thread_.join();
  }
  if (abandoned_.load()) {
    // Another instance owns the channels now: what is still unacknowledged is not waited for and
    // no checkpoint is written (the new owner resumes from Kafka).
    log->warn("abandoned: {} event(s) unacknowledged, no final checkpoint", progress_.in_flight());
    source_.disconnect();
    return core::Status::ok();
  }
  core::Status flushed = producer_.flush(config_.kafka.flush_timeout);
  in_flight_gauge_.set(static_cast<double>(progress_.in_flight()));
  if (!flushed) {
    log->warn(
        "{} event(s) still unacknowledged after {} ms: the checkpoint stays below them; they are "
        "replayed and deduplicated at the next start",
        progress_.in_flight(), config_.kafka.flush_timeout.count());
  }
  core::Status written = write_checkpoint(true);
  source_.disconnect();
  if (!written) {
    return core::fatal_error("final checkpoint not written: " + written.message());
  }
  log->info("stopped");
  return core::Status::ok();
}

}  // namespace sfkb::pipeline
