#include "daemon/salesforce/merged_source.h"

#include <algorithm>
#include <chrono>
#include <iterator>

namespace sfkb::salesforce {

MergedSource::MergedSource(std::vector<std::unique_ptr<EventSource>> sources) {
  for (auto& source : sources) {
    auto slot = std::make_unique<Slot>();
    slot->source = std::move(source);
    slots_.push_back(std::move(slot));
  }
}

MergedSource::~MergedSource() {
  stop_pulling();
}

void MergedSource::pull(std::stop_token stop, Slot& slot) {
  std::vector<StreamEvent> batch;
  while (!stop.stop_requested()) {
    batch.clear();
    core::Status status = slot.source->next_batch(stop, batch);
    std::unique_lock lock(mutex_);
    if (!status) {
      if (status.kind() != core::ErrorKind::kStopped && !fatal_) {
        fatal_ = status.error();
      }
      changed_.notify_all();
      return;
    }
    if (batch.empty()) {
      continue;
    }
    slot.batch = std::move(batch);
    slot.full = true;
    changed_.notify_all();
    // One batch per source in memory: wait until the pipeline took it.
    if (!changed_.wait(lock, stop, [&] { return !slot.full; })) {
      return;
    }
  }
}

core::Status MergedSource::next_batch(std::stop_token stop, std::vector<StreamEvent>& out) {
  std::unique_lock lock(mutex_);
  if (!started_) {
    started_ = true;
    for (auto& slot : slots_) {
      threads_.emplace_back(
          [this, &slot = *slot, token = stop_.get_token()](std::stop_token) { pull(token, slot); });
    }
  }
  const auto any_full = [this] {
    return std::any_of(slots_.begin(), slots_.end(), [](const auto& s) { return s->full; });
  };
  // Inner sources return at least every long poll (CometD) or idle_return (Pub/Sub) with or
  // without events; a bounded wait keeps the pipeline's loop turning the same way.
  changed_.wait_for(lock, stop, std::chrono::seconds(1),
                    [&] { return any_full() || fatal_.has_value(); });
  if (stop.stop_requested()) {
    return core::Error{core::ErrorKind::kStopped, "merged source: stopped"};
  }
  for (auto& slot : slots_) {
    if (slot->full) {
      std::move(slot->batch.begin(), slot->batch.end(), std::back_inserter(out));
      slot->batch.clear();
      slot->full = false;
    }
  }
  changed_.notify_all();
  if (out.empty() && fatal_) {
    return *fatal_;
  }
  return core::Status::ok();
}

bool MergedSource::connected() const {
  return std::all_of(slots_.begin(), slots_.end(),
                     [](const auto& slot) { return slot->source->connected(); });
}

void MergedSource::stop_pulling() {
  stop_.request_stop();
  {
    std::lock_guard lock(mutex_);
    changed_.notify_all();
  }
  threads_.clear();  // joins: each inner next_batch returns on the stop token
}

void MergedSource::disconnect() {
  stop_pulling();
  if (disconnected_) {
    return;
  }
  disconnected_ = true;
  for (auto& slot : slots_) {
    slot->source->disconnect();
  }
}

}  // namespace sfkb::salesforce
