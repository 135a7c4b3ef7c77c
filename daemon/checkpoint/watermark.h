#pragma once
// Per-channel progress, pure and single-threaded (the subscribe pipeline serialises access).
//
// Watermark: events of a channel are produced in replay order but may be acknowledged out of order
// (a keyed mapping spreads them over partitions, each with its own ack stream). The watermark is
// the highest replay ID such that it and every earlier produced event of the channel is
// acknowledged - the only value the checkpoint may ever hold (docs/ARCHITECTURE.md §4, resume
// rule).
//
// DuplicateFilter: Salesforce delivers at least once, and a resubscription replays from the
// watermark, so a channel sees events again. The filter admits an event only when its replay ID is
// above the highest one already handed to Kafka (the high-water mark) and not in the skip set that
// start-up reconciliation built from what Kafka already holds.

#include <cstddef>
#include <deque>
#include <optional>
#include <set>
#include <utility>

#include "daemon/core/replay_id.h"

namespace sfkb::checkpoint {

class Watermark {
 public:
  // `acknowledged`: where the channel resumes (every event up to it is in Kafka), if known.
  explicit Watermark(std::optional<core::ReplayId> acknowledged = std::nullopt)
      : value_(std::move(acknowledged)) {}

  // The event was handed to the producer. Replay IDs must increase per channel; a smaller or
  // equal one is ignored (returns false) because the duplicate filter should have dropped it.
  bool produced(const core::ReplayId& replay_id);
  // A produce call that failed before librdkafka took the message: forget it (it must be the
  // newest produced one).
  void cancel(const core::ReplayId& replay_id);
  // Kafka acknowledged the event. Returns true when the watermark moved.
  bool acknowledged(const core::ReplayId& replay_id);
  // None of the events in flight will be acknowledged (the channel was fenced): forget them all;
  // the watermark stays where it is.
  void abandon() {
    pending_.clear();
    in_flight_ = 0;
  }

  std::optional<core::ReplayId> value() const { return value_; }
  // Produced but not yet acknowledged (the in-flight count of the channel).
  std::size_t in_flight() const { return in_flight_; }

 private:
  struct Entry {
    core::ReplayId replay_id;
    bool acked;
  };
  std::deque<Entry> pending_;  // in produce (= replay) order
  std::optional<core::ReplayId> value_;
  std::size_t in_flight_ = 0;
};

class DuplicateFilter {
 public:
  enum class Verdict {
    kNew,             // produce it
    kBelowHighWater,  // already handed to Kafka in this process (or at/below the resume point)
    kInKafka,         // reconciliation found it in Kafka above the resume point
  };

  DuplicateFilter(std::optional<core::ReplayId> resume_point = std::nullopt,
                  std::set<core::ReplayId> skip = {})
      : high_water_(std::move(resume_point)), skip_(std::move(skip)) {}

  // Decides about the next event of the channel and, unless it is a duplicate below the
  // high-water mark, raises the mark to it.
  Verdict admit(const core::ReplayId& replay_id);

  std::optional<core::ReplayId> high_water() const { return high_water_; }
  std::size_t skip_size() const { return skip_.size(); }

 private:
  std::optional<core::ReplayId> high_water_;
  std::set<core::ReplayId> skip_;
};

}  // namespace sfkb::checkpoint
