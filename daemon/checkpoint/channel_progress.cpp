#include "daemon/checkpoint/channel_progress.h"

namespace sfkb::checkpoint {

namespace {

std::vector<std::string> channels_of(const config::Config& config) {
  std::vector<std::string> channels;
  channels.reserve(config.subscribe.size());
  for (const auto& mapping : config.subscribe) {
    channels.push_back(mapping.channel);
  }
  return channels;
}

}  // namespace

ChannelProgress::ChannelProgress(const config::Config& config)
    : channels_(channels_of(config)), marks_(channels_.size()) {}

void ChannelProgress::seed(std::size_t index, std::optional<core::ReplayId> acknowledged,
                           std::uint32_t epoch, std::string org_id) {
  std::lock_guard lock(mutex_);
  auto& slot = marks_[index];
  in_flight_ -= slot.mark.in_flight();
  for (const auto& [old_epoch, mark] : slot.retired) {
    in_flight_ -= mark.in_flight();
  }
  slot = Slot{checkpoint::Watermark(std::move(acknowledged)), epoch, std::move(org_id), {}};
}

std::uint32_t ChannelProgress::restart(std::size_t index, const core::ReplayId& fallback,
                                       const std::string& org_id) {
  std::lock_guard lock(mutex_);
  auto& slot = marks_[index];
  if (slot.mark.in_flight() > 0) {
    slot.retired.emplace_back(slot.epoch, std::move(slot.mark));
  }
  slot.mark = checkpoint::Watermark(fallback);
  ++slot.epoch;
  if (!org_id.empty()) {
    slot.org_id = org_id;
  }
  return slot.epoch;
}

void ChannelProgress::adopt_org(const std::string& org_id) {
  std::lock_guard lock(mutex_);
  for (auto& slot : marks_) {
    const auto position = slot.mark.value();
    if (!position || !position->names_event()) {
      slot.org_id = org_id;
    }
  }
}

bool ChannelProgress::produced(std::size_t index, const core::ReplayId& replay_id) {
  std::lock_guard lock(mutex_);
  if (!marks_[index].mark.produced(replay_id)) {
    return false;
  }
  ++in_flight_;
  return true;
}

void ChannelProgress::cancel(std::size_t index, const core::ReplayId& replay_id) {
  {
    std::lock_guard lock(mutex_);
    auto& mark = marks_[index].mark;
    std::size_t before = mark.in_flight();
    mark.cancel(replay_id);
    in_flight_ -= before - mark.in_flight();
    if (in_flight_ >= wake_below_) {
      return;
    }
  }
  acked_.notify_all();
}

void ChannelProgress::abandon(std::size_t index) {
  {
    std::lock_guard lock(mutex_);
    auto& slot = marks_[index];
    std::size_t dropped = slot.mark.in_flight();
    slot.mark.abandon();
    for (auto& [epoch, mark] : slot.retired) {
      dropped += mark.in_flight();
    }
    slot.retired.clear();
    in_flight_ -= dropped;
  }
  acked_.notify_all();
}

void ChannelProgress::acknowledged(std::size_t index, const core::ReplayId& replay_id,
                                   std::uint32_t epoch) {
  {
    std::lock_guard lock(mutex_);
    auto& slot = marks_[index];
    if (epoch == slot.epoch) {
      std::size_t before = slot.mark.in_flight();
      slot.mark.acknowledged(replay_id);
      in_flight_ -= before - slot.mark.in_flight();
    } else {
      for (auto it = slot.retired.begin(); it != slot.retired.end(); ++it) {
        if (it->first != epoch) {
          continue;
        }
        std::size_t before = it->second.in_flight();
        it->second.acknowledged(replay_id);
        in_flight_ -= before - it->second.in_flight();
        if (it->second.in_flight() == 0) {
          slot.retired.erase(it);
        }
        break;
      }
    }
    if (in_flight_ >= wake_below_) {
      return;
    }
  }
  acked_.notify_all();
}

void ChannelProgress::settled(std::size_t index, const core::ReplayId& replay_id) {
  std::lock_guard lock(mutex_);
  if (marks_[index].mark.produced(replay_id)) {
    marks_[index].mark.acknowledged(replay_id);
  }
}

std::vector<ChannelProgress::Position> ChannelProgress::positions() const {
  std::lock_guard lock(mutex_);
  std::vector<Position> out;
  out.reserve(marks_.size());
  for (const auto& slot : marks_) {
    out.push_back({slot.mark.value(), slot.epoch, slot.org_id});
  }
  return out;
}

std::size_t ChannelProgress::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

bool ChannelProgress::wait_below(std::size_t limit, std::chrono::milliseconds timeout,
                                 std::stop_token stop) {
  std::unique_lock lock(mutex_);
  wake_below_ = limit;
  const bool below = acked_.wait_for(lock, stop, timeout, [&] { return in_flight_ < limit; });
  wake_below_ = 0;
  return below;
}

std::optional<core::ReplayId> ChannelProgress::resume_point(const std::string& channel) const {
  // A handful of channels, asked once per (re)subscribe: a scan is cheaper than a map to keep.
  for (std::size_t i = 0; i < channels_.size(); ++i) {
    if (channels_[i] == channel) {
      std::lock_guard lock(mutex_);
      return marks_[i].mark.value();
    }
  }
  return std::nullopt;
}

}  // namespace sfkb::checkpoint
