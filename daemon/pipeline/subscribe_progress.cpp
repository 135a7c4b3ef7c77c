#include "daemon/pipeline/subscribe_progress.h"

namespace sfkb::pipeline {

std::shared_ptr<SubscribeProgress> SubscribeProgress::create(const config::Config& config) {
  std::vector<std::string> channels;
  channels.reserve(config.subscribe.size());
  for (const auto& mapping : config.subscribe) {
    channels.push_back(mapping.channel);
  }
  return std::shared_ptr<SubscribeProgress>(new SubscribeProgress(std::move(channels)));
}

SubscribeProgress::SubscribeProgress(std::vector<std::string> channels)
    : channels_(std::move(channels)), marks_(channels_.size()) {}

std::optional<std::size_t> SubscribeProgress::index_of(const std::string& channel) const {
  for (std::size_t i = 0; i < channels_.size(); ++i) {
    if (channels_[i] == channel) {
      return i;
    }
  }
  return std::nullopt;
}

void SubscribeProgress::seed(std::size_t index, std::optional<core::ReplayId> acknowledged,
                             std::uint32_t epoch, std::string org_id) {
  std::lock_guard lock(mutex_);
  auto& slot = marks_[index];
  in_flight_ -= slot.mark.in_flight();
  for (const auto& [old_epoch, mark] : slot.retired) {
    in_flight_ -= mark.in_flight();
  }
  slot = Slot{checkpoint::Watermark(std::move(acknowledged)), epoch, std::move(org_id), {}};
}

std::uint32_t SubscribeProgress::restart(std::size_t index, const core::ReplayId& fallback,
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

void SubscribeProgress::adopt_org(const std::string& org_id) {
  std::lock_guard lock(mutex_);
  for (auto& slot : marks_) {
    const auto position = slot.mark.value();
    if (!position || !position->names_event()) {
      slot.org_id = org_id;
    }
  }
}

bool SubscribeProgress::produced(std::size_t index, const core::ReplayId& replay_id) {
  std::lock_guard lock(mutex_);
  if (!marks_[index].mark.produced(replay_id)) {
    return false;
  }
  ++in_flight_;
  return true;
}

void SubscribeProgress::cancel(std::size_t index, const core::ReplayId& replay_id) {
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

void SubscribeProgress::acknowledged(std::size_t index, const core::ReplayId& replay_id,
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

void SubscribeProgress::settled(std::size_t index, const core::ReplayId& replay_id) {
  std::lock_guard lock(mutex_);
  if (marks_[index].mark.produced(replay_id)) {
    marks_[index].mark.acknowledged(replay_id);
  }
}

std::optional<core::ReplayId> SubscribeProgress::watermark(std::size_t index) const {
  std::lock_guard lock(mutex_);
  return marks_[index].mark.value();
}

std::vector<std::optional<core::ReplayId>> SubscribeProgress::watermarks() const {
  std::lock_guard lock(mutex_);
  std::vector<std::optional<core::ReplayId>> out;
  out.reserve(marks_.size());
  for (const auto& slot : marks_) {
    out.push_back(slot.mark.value());
  }
  return out;
}

std::vector<SubscribeProgress::Position> SubscribeProgress::positions() const {
  std::lock_guard lock(mutex_);
  std::vector<Position> out;
  out.reserve(marks_.size());
  for (const auto& slot : marks_) {
    out.push_back({slot.mark.value(), slot.epoch, slot.org_id});
  }
  return out;
}

std::size_t SubscribeProgress::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

bool SubscribeProgress::wait_below(std::size_t limit, std::chrono::milliseconds timeout,
                                   std::stop_token stop) {
  std::unique_lock lock(mutex_);
  wake_below_ = limit;
  const bool below = acked_.wait_for(lock, stop, timeout, [&] { return in_flight_ < limit; });
  wake_below_ = 0;
  return below;
}

salesforce::ResumePoint SubscribeProgress::resume_point() {
  std::weak_ptr<SubscribeProgress> weak = weak_from_this();
  return [weak](const std::string& channel) -> std::optional<core::ReplayId> {
    auto self = weak.lock();
    if (!self) {
      return std::nullopt;
    }
    auto index = self->index_of(channel);
    if (!index) {
      return std::nullopt;
    }
    return self->watermark(*index);
  };
}

}  // namespace sfkb::pipeline
