#pragma once
// The subscribe direction's per-channel acknowledged progress: each channel's watermark per epoch
// (watermark.h), the org its position belongs to, and the count of events in flight. Shared by
// three threads: the pipeline thread produces, the delivery thread serves acknowledgements, and the
// event source (on the pipeline thread, inside next_batch) asks where a resubscription resumes
// through the ResumePoints interface it was given. The composition root builds it first and hands
// it to both the source and the pipeline (docs/ARCHITECTURE.md §3 "Assembly").

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "daemon/checkpoint/watermark.h"
#include "daemon/config/config.h"
#include "daemon/core/replay_id.h"
#include "daemon/salesforce/event_source.h"

namespace sfkb::checkpoint {

class ChannelProgress final : public salesforce::ResumePoints {
 public:
  // One slot per subscribe mapping, in config order (the DeliveryTag's channel index).
  explicit ChannelProgress(const config::Config& config);
  ChannelProgress(const ChannelProgress&) = delete;
  ChannelProgress& operator=(const ChannelProgress&) = delete;

  // What the checkpoint holds for a channel: its watermark within the current epoch (the
  // channel's restart count), and the org that replay ID belongs to (empty: unknown).
  struct Position {
    std::optional<core::ReplayId> replay_id;
    std::uint32_t epoch = 0;
    std::string org_id;
    bool operator==(const Position&) const = default;
  };

  // Start-up: where the channel resumes (every event up to it is in Kafka).
  void seed(std::size_t index, std::optional<core::ReplayId> acknowledged, std::uint32_t epoch = 0,
            std::string org_id = {});
  // The channel's subscription restarted from `fallback` (a preset): a new epoch whose watermark
  // starts at the fallback. Events of the old epoch still in flight stay counted until Kafka
  // answers for them, but can no longer move the channel's watermark. Returns the new epoch.
  std::uint32_t restart(std::size_t index, const core::ReplayId& fallback,
                        const std::string& org_id);
  // The subscription moved to `org_id`: every channel without a position of its own (nothing
  // acknowledged, or only a preset start) belongs to it from now on. A channel with a real position
  // keeps its org until its own restart voids that position.
  void adopt_org(const std::string& org_id);

  // The event is about to be handed to the producer (registered first, so that an ack racing
  // the produce call always finds it). False if it does not advance the channel.
  bool produced(std::size_t index, const core::ReplayId& replay_id);
  // produce() refused the record it was registered for.
  void cancel(std::size_t index, const core::ReplayId& replay_id);
  void acknowledged(std::size_t index, const core::ReplayId& replay_id, std::uint32_t epoch = 0);
  // The channel was fenced (another instance writes it now): none of its events in flight, of
  // any epoch, will be acknowledged. Its position stays where it is.
  void abandon(std::size_t index);
  // An event already in Kafka (or dropped on purpose): the watermark may pass it.
  void settled(std::size_t index, const core::ReplayId& replay_id);

  std::vector<Position> positions() const;
  std::size_t in_flight() const;

  // Waits until fewer than `limit` events are in flight; false on stop or timeout. The waiter is
  // woken only once that holds, not at every acknowledgement.
  bool wait_below(std::size_t limit, std::chrono::milliseconds timeout, std::stop_token stop);

  // For the event source: the channel's watermark (docs/ARCHITECTURE.md §2 step 6: a rehandshake
  // resumes from the last acknowledged event, never from the original start nor from what is in
  // flight); nullopt for a channel that is not configured.
  std::optional<core::ReplayId> resume_point(const std::string& channel) const override;

 private:
  std::vector<std::string> channels_;
  mutable std::mutex mutex_;
  std::condition_variable_any acked_;
  // The waiter's bound (0: nobody waits): an acknowledgement notifies only when in_flight_ has
  // dropped below it, so a paused pipeline is not woken (and switched to) thousands of times.
  std::size_t wake_below_ = 0;
  struct Slot {
    checkpoint::Watermark mark;  // of the current epoch
    std::uint32_t epoch = 0;
    std::string org_id;
    // Earlier epochs with events still in flight: their acknowledgements only count down.
    std::vector<std::pair<std::uint32_t, checkpoint::Watermark>> retired;
  };
  std::vector<Slot> marks_;
  std::size_t in_flight_ = 0;
};

}  // namespace sfkb::checkpoint
