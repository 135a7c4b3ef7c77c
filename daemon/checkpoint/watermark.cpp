#include "daemon/checkpoint/watermark.h"

#include <algorithm>

namespace sfkb::checkpoint {

bool Watermark::produced(const core::ReplayId& replay_id) {
  if (!pending_.empty() && replay_id <= pending_.back().replay_id) {
    return false;
  }
  if (pending_.empty() && value_ && replay_id <= *value_) {
    return false;
  }
  pending_.push_back({replay_id, false});
  ++in_flight_;
  return true;
}

void Watermark::cancel(const core::ReplayId& replay_id) {
  if (!pending_.empty() && pending_.back().replay_id == replay_id && !pending_.back().acked) {
    pending_.pop_back();
    --in_flight_;
  }
}

bool Watermark::acknowledged(const core::ReplayId& replay_id) {
  auto it = std::lower_bound(
      pending_.begin(), pending_.end(), replay_id,
      [](const Entry& entry, const core::ReplayId& id) { return entry.replay_id < id; });
  if (it == pending_.end() || it->replay_id != replay_id || it->acked) {
    return false;
  }
  it->acked = true;
  --in_flight_;
  bool moved = false;
  while (!pending_.empty() && pending_.front().acked) {
    value_ = pending_.front().replay_id;
    pending_.pop_front();
    moved = true;
  }
  return moved;
}

DuplicateFilter::Verdict DuplicateFilter::admit(const core::ReplayId& replay_id) {
  if (high_water_ && replay_id <= *high_water_) {
    return Verdict::kBelowHighWater;
  }
  high_water_ = replay_id;
  if (!skip_.empty()) {
    // Everything at or below the event can never be seen again: prune so the set only shrinks.
    auto end = skip_.upper_bound(replay_id);
    bool found = skip_.count(replay_id) > 0;
    skip_.erase(skip_.begin(), end);
    if (found) {
      return Verdict::kInKafka;
    }
  }
  return Verdict::kNew;
}

DuplicateFilter::Verdict DuplicateFilter::admit(const core::ReplayId& replay_id,
                                                std::string_view event_uuid) {
  const Verdict verdict = admit(replay_id);
  if (verdict != Verdict::kNew || event_uuid.empty() || skip_uuids_.empty()) {
    return verdict;
  }
  const auto it = skip_uuids_.find(std::string(event_uuid));
  if (it == skip_uuids_.end()) {
    return verdict;
  }
  skip_uuids_.erase(it);
  return Verdict::kInKafka;
}

}  // namespace sfkb::checkpoint
