#include "daemon/ownership/channel_owner.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>

#include "daemon/kafka/client_config.h"
#include "daemon/kafka/consumer.h"
#include "daemon/ops/log.h"
#include "daemon/ops/log_fields.h"
#include "daemon/ops/repeat_limiter.h"
#include "daemon/ownership/channel_partitions.h"

namespace sfkb::ownership {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long one poll of the group member waits: bounds how late a stop or a failed pipeline is
// noticed; the group's heartbeats run on librdkafka's own thread whatever this is.
constexpr milliseconds kPollTimeout{100};

std::int64_t ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// librdkafka's default heartbeat (3 s) must stay below the session timeout; a third of it leaves
// two missed heartbeats before the session ends.
milliseconds heartbeat_interval(milliseconds session) {
  return std::clamp(session / 3, milliseconds(100), milliseconds(3000));
}

std::string listed(const std::set<std::string>& channels) {
  return channels.empty() ? std::string("none") : fmt::format("{}", fmt::join(channels, ","));
}

}  // namespace

struct ChannelOwner::Running {
  std::unique_ptr<config::Config> config;  // the owned subset; outlives the pipeline
  std::unique_ptr<OwnedPipeline> pipeline;
  std::stop_source stop;
  std::atomic<bool> done{false};
  core::Status status;  // written by the thread before `done`
  std::thread thread;
};

ChannelOwner::ChannelOwner(const config::Config& config, PipelineFactory factory,
                           ops::Metrics& metrics, ops::Heartbeat& heartbeat)
    : config_(config),
      factory_(std::move(factory)),
      ordered_(channels_in_partition_order(config)),
      topic_(config::full_topic(config.kafka, config.coordination.topic)),
      group_(config.kafka.topic_prefix + config.coordination.group),
      owned_gauge_(metrics.gauge(ops::Metric::kOwnedChannels)),
      rebalances_(metrics.counter(ops::Metric::kRebalances)),
      heartbeat_(heartbeat) {}

ChannelOwner::~ChannelOwner() {
  stop_pipeline(false);
}

bool ChannelOwner::ready() const {
  if (stopping_.load()) {
    return false;
  }
  // joined_, settled_, owned_count_ and running_pipeline_ change together under mutex_: a member
  // that was just assigned channels is not ready before their pipeline exists.
  std::lock_guard lock(mutex_);
  if (!joined_.load() || !settled_.load()) {
    return false;
  }
  if (running_pipeline_ == nullptr) {
    return owned_count_.load() == 0;
  }
  return running_pipeline_->pipeline->ready();
}

std::string ChannelOwner::not_ready_reason() const {
  if (stopping_.load()) {
    return "stopping";
  }
  if (!joined_.load()) {
    return "joining consumer group " + group_;
  }
  std::lock_guard lock(mutex_);
  if (!settled_.load() || running_pipeline_ == nullptr) {
    return "taking over its channels";
  }
  return running_pipeline_->pipeline->not_ready_reason();
}

std::string ChannelOwner::note() const {
  std::lock_guard lock(mutex_);
  if (joined_.load() && settled_.load() && owned_count_.load() == 0) {
    return "owns no channel: the other members of group " + group_ + " own them all";
  }
  return {};
}

bool ChannelOwner::may_produce() const {
  return ns(Clock::now()) < lease_until_ns_.load();
}

void ChannelOwner::fenced(const std::string& channel) {
  std::lock_guard lock(fenced_mutex_);
  fenced_.insert(channel);
}

void ChannelOwner::renew_lease(Clock::time_point now) {
  lease_until_ns_ = ns(now + config_.coordination.session_timeout / 2);
}

void ChannelOwner::assigned(const std::vector<kafka::TopicPartition>& partitions) {
  // The first assignment is logged (and counted) even when empty: the member has joined.
  if (!member_) {
    member_ = true;
    changed_ = true;
  }
  std::vector<std::int32_t> numbers;
  for (const auto& p : partitions) {
    numbers.push_back(p.partition);
  }
  const auto added = channels_of(ordered_, numbers);
  for (const auto& channel : added) {
    changed_ = owned_.insert(channel).second || changed_;
  }
  if (changed_) {
    unsettle();
  }
}

void ChannelOwner::unsettle() {
  std::lock_guard lock(mutex_);
  settled_ = false;
}

void ChannelOwner::revoked(const std::vector<kafka::TopicPartition>& partitions, bool lost) {
  auto log = ops::logger("ownership");
  std::vector<std::int32_t> numbers;
  for (const auto& p : partitions) {
    numbers.push_back(p.partition);
  }
  const auto gone = channels_of(ordered_, numbers);
  bool mine = false;
  for (const auto& channel : gone) {
    mine = running_.contains(channel) || mine;
  }
  if (mine) {
    // An orderly stop takes time inside this poll; an abandoned one does not.
    callback_blocked_ = !lost;
    if (lost) {
      lease_until_ns_ = 0;
      log->warn(
          "channels {} were lost (this instance missed its group session): stopping them at once, "
          "writing nothing more; their new owner resumes from Kafka",
          listed(gone));
    } else {
      log->info("releasing channels {}: draining and writing their final checkpoint first",
                listed(gone));
    }
    // Inside the rebalance callback: the partitions are given up only when this returns, so the
    // next owner starts after the final checkpoint (or, when lost, after this instance stopped).
    if (auto status = stop_pipeline(lost); !status && status.kind() != core::ErrorKind::kStopped) {
      log->error("stopping the pipeline of channels {} failed: {}", listed(running_),
                 status.message());
    }
  }
  for (const auto& channel : gone) {
    owned_.erase(channel);
  }
  changed_ = changed_ || owned_ != running_;
  if (changed_) {
    unsettle();
  }
}

std::unique_ptr<ChannelOwner::Running> ChannelOwner::start_pipeline() {
  auto running = std::make_unique<Running>();
  running->config = std::make_unique<config::Config>(restricted_to(config_, owned_));
  running->pipeline = factory_(*running->config);
  auto* raw = running.get();
  running->thread = std::thread([raw, token = running->stop.get_token()] {
    core::Status status;
    try {
      status = raw->pipeline->run(token);
    } catch (const std::exception& e) {
      status = core::fatal_error(std::string("unexpected exception: ") + e.what());
    }
    raw->status = status;
    raw->done = true;
  });
  return running;
}

void ChannelOwner::publish(std::unique_ptr<Running> running) {
  std::lock_guard lock(mutex_);
  running_pipeline_ = std::move(running);
  owned_count_ = owned_.size();
  joined_ = true;
  settled_ = true;
}

core::Status ChannelOwner::stop_pipeline(bool abandon) {
  Running* running = nullptr;
  {
    std::lock_guard lock(mutex_);
    running = running_pipeline_.get();
  }
  if (running == nullptr) {
    return core::Status::ok();
  }
  if (abandon) {
    running->pipeline->abandon();
  }
  running->stop.request_stop();
  if (running->thread.joinable()) {
    running->thread.join();
  }
  core::Status status = running->status;
  std::unique_ptr<Running> finished;
  {
    std::lock_guard lock(mutex_);
    finished = std::move(running_pipeline_);
  }
  finished.reset();
  {
    // Fences reported by the pipeline just stopped concern it only, not the next one.
    std::lock_guard lock(fenced_mutex_);
    fenced_.clear();
  }
  running_.clear();
  changed_ = owned_ != running_;
  return status;
}

core::Status ChannelOwner::rebuild() {
  auto log = ops::logger("ownership");
  const auto before = running_;
  if (auto status = stop_pipeline(false); !status && status.kind() != core::ErrorKind::kStopped) {
    return status;
  }
  std::set<std::string> added;
  std::set<std::string> removed;
  std::set_difference(owned_.begin(), owned_.end(), before.begin(), before.end(),
                      std::inserter(added, added.end()));
  std::set_difference(before.begin(), before.end(), owned_.begin(), owned_.end(),
                      std::inserter(removed, removed.end()));
  rebalances_.inc();
  owned_gauge_.set(static_cast<double>(owned_.size()));
  ops::info(log, "owned channels ({} of {}): {}; added: {}; released: {}", owned_.size(),
            ordered_.size(), ops::field("channels", listed(owned_)), listed(added),
            listed(removed));
  changed_ = false;
  if (owned_.empty()) {
    publish(nullptr);
    return core::Status::ok();
  }
  try {
    publish(start_pipeline());
  } catch (const std::exception& e) {
    return core::fatal_error("cannot build the subscribe pipeline for channels " + listed(owned_) +
                             ": " + e.what());
  }
  running_ = owned_;
  return core::Status::ok();
}

core::Status ChannelOwner::run(std::stop_token stop) {
  auto log = ops::logger("ownership");
  const auto session = config_.coordination.session_timeout;
  const auto heartbeat = heartbeat_interval(session);
  kafka::RebalanceHooks hooks;
  hooks.on_assigned = [this](const auto& partitions) { assigned(partitions); };
  hooks.on_revoked = [this](const auto& partitions) { revoked(partitions, false); };
  hooks.on_lost = [this](const auto& partitions) { revoked(partitions, true); };
  std::unique_ptr<kafka::Consumer> member;
  try {
    member = std::make_unique<kafka::Consumer>(
        kafka::ClientConfig(config_.kafka, kafka::Role::kConsumer), group_, std::move(hooks),
        kafka::Properties{{"partition.assignment.strategy", "cooperative-sticky"},
                          {"session.timeout.ms", std::to_string(session.count())},
                          {"heartbeat.interval.ms", std::to_string(heartbeat.count())}});
  } catch (const std::exception& e) {
    return core::fatal_error(std::string("cannot create the coordination consumer: ") + e.what());
  }
  if (auto status = member->subscribe({topic_}); !status) {
    return status;
  }
  ops::info(log, "joining group {} over {} ({} channel(s), session timeout {} ms)",
            ops::field("group", group_), ops::field("topic", topic_), ordered_.size(),
            session.count());

  ops::RepeatLimiter poll_warnings;
  core::Status result = core::Status::ok();
  auto last = Clock::now();
  // After a stall, the time until which the lease stays withheld: long enough for two heartbeats
  // to be answered, one of which says "unknown member" when the group moved on meanwhile.
  bool withholding = false;
  Clock::time_point withheld_until{};
  renew_lease(last);
  while (!stop.stop_requested()) {
    const auto before_poll = Clock::now();
    callback_blocked_ = false;
    auto polled = member->poll(kPollTimeout, 1);
    const auto now = Clock::now();
    // A revocation that stopped a pipeline accounts for a long poll; otherwise time spent
    // outside the loop or far beyond the poll's wait is a stall of the whole process.
    if (!callback_blocked_ && !withholding) {
      const auto gap = std::max(before_poll - last, now - before_poll - kPollTimeout);
      if (gap > session / 2) {
        withholding = true;
        withheld_until = now + 2 * heartbeat + std::chrono::seconds(1);
        lease_until_ns_ = 0;
        ops::warn(log,
                  "this instance stood still for {} ms (more than half of the {} ms session): "
                  "producing nothing until the group confirms its channels",
                  std::chrono::duration_cast<milliseconds>(gap).count(), session.count());
      }
    }
    if (!polled) {
      if (polled.error().kind != core::ErrorKind::kRetry) {
        log->error("coordination consumer failed: {}", polled.error().message);
        result = polled.error();
        break;
      }
      if (auto repeat = poll_warnings.admit()) {
        log->warn("coordination consumer: {}{}", polled.error().message, repeat->suffix());
      }
    }
    std::set<std::string> fenced;
    {
      std::lock_guard lock(fenced_mutex_);
      fenced.swap(fenced_);
    }
    for (const auto& channel : fenced) {
      if (owned_.erase(channel) > 0) {
        ops::info(log, "{} was fenced: another instance owns it now; giving it up",
                  ops::field("channel", channel));
        changed_ = true;
      }
    }
    if (changed_) {
      if (auto status = rebuild(); !status) {
        result = status;
        break;
      }
    }
    if (running_pipeline_ != nullptr && running_pipeline_->done.load()) {
      // The pipeline ended by itself: the supervisor stops the process and the channels move.
      result = stop_pipeline(false);
      if (result.is_ok()) {
        result = core::fatal_error("the subscribe pipeline returned without being asked to stop");
      }
      break;
    }
    if (running_pipeline_ == nullptr) {
      heartbeat_.beat();
    }
    last = Clock::now();
    if (withholding && last >= withheld_until) {
      withholding = false;
      log->info("still a member of group {} after the stall: producing again", group_);
    }
    if (!withholding) {
      renew_lease(last);
    }
  }
  stopping_ = true;
  lease_until_ns_ = 0;
  core::Status stopped = stop_pipeline(false);
  // Leaving the group hands the channels over at once instead of after the session timeout. It
  // is bounded as the publish consumer's: a JoinGroup held by a stalled member must not make the
  // stop overrun shutdown.timeout (the channels then move after this member's session instead).
  if (auto closed = member->close_within(kafka::Consumer::leave_timeout(config_.shutdown.timeout));
      !closed) {
    log->warn("leaving group {}: {}", group_, closed.message());
  }
  if (!result.is_ok()) {
    return result;
  }
  return stopped;
}

}  // namespace sfkb::ownership
