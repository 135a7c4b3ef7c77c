#pragma once
// In-memory peers for the subscribe pipeline's unit tests: a scripted EventSource, a producer
// whose acknowledgements the test controls, a checkpoint store and an empty-or-scripted Kafka.

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "daemon/checkpoint/kafka_tail.h"
#include "daemon/checkpoint/store.h"
#include "daemon/pipeline/subscribe_producer.h"
#include "daemon/salesforce/event_source.h"

namespace sfkb::pipeline::testing {

inline salesforce::StreamEvent event(const std::string& channel, std::int64_t replay_id) {
  salesforce::StreamEvent e;
  e.channel = channel;
  e.replay_id = core::ReplayId::cometd(replay_id);
  e.event_uuid = "uuid-" + std::to_string(replay_id);
  e.payload_json = "{\"N__c\":" + std::to_string(replay_id) + "}";
  e.envelope_json = "{}";
  return e;
}

// The item a source puts into a batch when `channel` was resubscribed from `fallback` because
// Salesforce refused `refused` (or, with `previous_org`, the org changed).
inline salesforce::StreamEvent restart(const std::string& channel, std::int64_t refused,
                                       std::int64_t fallback = -2, std::string org_id = {},
                                       std::string previous_org = {}) {
  salesforce::StreamEvent e;
  e.channel = channel;
  e.restart =
      salesforce::ChannelRestart{core::ReplayId::cometd(refused), core::ReplayId::cometd(fallback),
                                 std::move(org_id), std::move(previous_org)};
  return e;
}

// Hands out scripted batches (events and ChannelRestart items), then long-polls (blocks) until
// stopped.
class FakeSource : public salesforce::EventSource {
 public:
  void push(std::vector<salesforce::StreamEvent> batch) {
    std::lock_guard lock(mutex_);
    batches_.push_back(std::move(batch));
    cv_.notify_all();
  }
  core::Status next_batch(std::stop_token stop,
                          std::vector<salesforce::StreamEvent>& out) override {
    std::unique_lock lock(mutex_);
    ++calls_;
    cv_.notify_all();
    if (!cv_.wait(lock, stop, [&] { return !batches_.empty() || fail_; })) {
      return core::Error{core::ErrorKind::kStopped, "stopped"};
    }
    if (fail_) {
      return core::fatal_error("scripted failure");
    }
    out = std::move(batches_.front());
    batches_.pop_front();
    return core::Status::ok();
  }
  bool connected() const override { return true; }
  void disconnect() override {
    std::lock_guard lock(mutex_);
    ++disconnects_;
  }
  void fail() {
    std::lock_guard lock(mutex_);
    fail_ = true;
    cv_.notify_all();
  }
  int calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  int disconnects() const {
    std::lock_guard lock(mutex_);
    return disconnects_;
  }
  // Waits until next_batch was entered `n` times and the script is used up.
  bool wait_idle(int n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return calls_ >= n && batches_.empty(); });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable_any cv_;
  std::deque<std::vector<salesforce::StreamEvent>> batches_;
  int calls_ = 0;
  int disconnects_ = 0;
  bool fail_ = false;
};

// Keeps every produced record; acknowledges on poll() when auto_ack, else when the test says.
class FakeProducer : public EventProducer {
 public:
  struct Sent {
    KafkaRecord record;
    DeliveryTag tag;
  };
  bool auto_ack = true;
  std::int64_t max_value_bytes = 1 << 20;

  void set_delivery_handler(DeliveryHandler handler) override { handler_ = std::move(handler); }
  core::Status produce(const KafkaRecord& record, DeliveryTag tag) override {
    if (static_cast<std::int64_t>(record.value.size()) > max_value_bytes) {
      return core::Error{core::ErrorKind::kInvalidInput, "Broker: Message size too large"};
    }
    std::lock_guard lock(mutex_);
    sent_.push_back({record, tag});
    pending_.push_back(tag);
    cv_.notify_all();
    return core::Status::ok();
  }
  void poll(std::chrono::milliseconds timeout) override {
    std::vector<DeliveryReport> reports;
    {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, timeout,
                   [&] { return (auto_ack && !pending_.empty()) || !ready_.empty(); });
      if (auto_ack) {
        for (const auto& tag : pending_) {
          reports.push_back({tag, core::Status::ok(), 0, 0});
        }
        pending_.clear();
      }
      for (auto& report : ready_) {
        reports.push_back(std::move(report));
      }
      ready_.clear();
    }
    for (const auto& report : reports) {
      handler_(report);
    }
  }
  core::Status flush(std::chrono::milliseconds timeout) override {
    poll(std::chrono::milliseconds(0));
    std::lock_guard lock(mutex_);
    ++flushes_;
    (void)timeout;
    return pending_.empty() ? core::Status::ok() : core::retry_error("still pending");
  }
  core::Result<std::int32_t> partition_count(const std::string& /*topic*/) override { return 4; }

  // Acknowledges (or fails) the pending record of `replay_id`; served at the next poll.
  void ack(std::int64_t replay_id, core::Status status = core::Status::ok()) {
    std::lock_guard lock(mutex_);
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->replay_id == core::ReplayId::cometd(replay_id)) {
        ready_.push_back({*it, status, 0, 0});
        pending_.erase(it);
        cv_.notify_all();
        return;
      }
    }
  }
  // Reports the pending record of `replay_id` as fenced (another owner took the channel over),
  // served at the next poll.
  void fence(std::int64_t replay_id) {
    std::lock_guard lock(mutex_);
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->replay_id == core::ReplayId::cometd(replay_id)) {
        DeliveryReport report{*it, core::fatal_error("fenced"), 0, 0};
        report.fenced = true;
        ready_.push_back(report);
        pending_.erase(it);
        cv_.notify_all();
        return;
      }
    }
  }
  core::Status initialize(std::stop_token) override {
    std::lock_guard lock(mutex_);
    ++initializations_;
    return core::Status::ok();
  }
  int initializations() const {
    std::lock_guard lock(mutex_);
    return initializations_;
  }
  std::vector<Sent> sent() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  std::size_t pending() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
  }
  bool wait_sent(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return sent_.size() >= n; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  DeliveryHandler handler_;
  std::vector<Sent> sent_;
  std::deque<DeliveryTag> pending_;
  std::vector<DeliveryReport> ready_;
  int flushes_ = 0;
  int initializations_ = 0;
};

class MemoryStore : public checkpoint::CheckpointStore {
 public:
  core::Result<checkpoint::Checkpoints> load() override {
    std::lock_guard lock(mutex_);
    if (corrupt) {
      return core::fatal_error("checkpoint file /x/checkpoints.json is unusable: corrupt");
    }
    return stored_;
  }
  core::Status save(const checkpoint::Checkpoints& checkpoints) override {
    std::lock_guard lock(mutex_);
    stored_ = checkpoints;
    ++saves_;
    return core::Status::ok();
  }
  std::string location() const override { return "memory"; }
  std::optional<std::int64_t> replay_id(const std::string& channel) const {
    std::lock_guard lock(mutex_);
    auto it = stored_.find(channel);
    return it == stored_.end() ? std::nullopt
                               : std::optional<std::int64_t>(it->second.replay_id.number());
  }
  std::optional<checkpoint::ChannelCheckpoint> entry(const std::string& channel) const {
    std::lock_guard lock(mutex_);
    auto it = stored_.find(channel);
    return it == stored_.end() ? std::nullopt
                               : std::optional<checkpoint::ChannelCheckpoint>(it->second);
  }
  void set_entry(const std::string& channel, checkpoint::ChannelCheckpoint entry) {
    std::lock_guard lock(mutex_);
    stored_[channel] = std::move(entry);
  }
  std::optional<std::int32_t> partition(const std::string& channel) const {
    std::lock_guard lock(mutex_);
    auto it = stored_.find(channel);
    return it == stored_.end() ? std::nullopt : it->second.partition;
  }
  void set(const std::string& channel, std::int64_t replay_id,
           std::optional<std::int32_t> partition = std::nullopt) {
    std::lock_guard lock(mutex_);
    stored_[channel] = {core::ReplayId::cometd(replay_id), "t", partition, 0, ""};
  }
  bool corrupt = false;

 private:
  mutable std::mutex mutex_;
  checkpoint::Checkpoints stored_;
  int saves_ = 0;
};

// Every topic has 4 partitions holding whatever the test appended.
class FakeTail : public checkpoint::KafkaTail {
 public:
  void append(int partition, const std::string& channel, std::int64_t replay_id,
              std::optional<std::string> org_id = std::nullopt, std::uint32_t epoch = 0) {
    auto& log = partitions_[partition];
    log.push_back({static_cast<std::int64_t>(log.size()), channel,
                   core::ReplayId::cometd(replay_id), org_id, epoch});
  }
  core::Result<std::int32_t> partition_count(const std::string& /*topic*/) override { return 4; }
  core::Status read_backwards(
      const std::string& /*topic*/, std::int32_t partition,
      const std::function<bool(const checkpoint::TailRecord&)>& visit) override {
    auto& log = partitions_[partition];
    for (auto it = log.rbegin(); it != log.rend(); ++it) {
      if (!visit(*it)) {
        break;
      }
    }
    return core::Status::ok();
  }

 private:
  std::map<int, std::vector<checkpoint::TailRecord>> partitions_;
};

}  // namespace sfkb::pipeline::testing
