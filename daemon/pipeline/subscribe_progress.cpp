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

void SubscribeProgress::seed(std::size_t index, std::optional<std::int64_t> acknowledged) {
  std::lock_guard lock(mutex_);
  in_flight_ -= marks_[index].in_flight();
  marks_[index] = checkpoint::Watermark(acknowledged);
}

bool SubscribeProgress::produced(std::size_t index, std::int64_t replay_id) {
  std::lock_guard lock(mutex_);
  if (!marks_[index].produced(replay_id)) {
    return false;
  }
  ++in_flight_;
  return true;
}

void SubscribeProgress::cancel(std::size_t index, std::int64_t replay_id) {
  {
    std::lock_guard lock(mutex_);
    std::size_t before = marks_[index].in_flight();
    marks_[index].cancel(replay_id);
    in_flight_ -= before - marks_[index].in_flight();
  }
  acked_.notify_all();
}

void SubscribeProgress::acknowledged(std::size_t index, std::int64_t replay_id) {
  {
    std::lock_guard lock(mutex_);
    std::size_t before = marks_[index].in_flight();
    marks_[index].acknowledged(replay_id);
    in_flight_ -= before - marks_[index].in_flight();
  }
  acked_.notify_all();
}

void SubscribeProgress::settled(std::size_t index, std::int64_t replay_id) {
  std::lock_guard lock(mutex_);
  if (marks_[index].produced(replay_id)) {
    marks_[index].acknowledged(replay_id);
  }
}

std::optional<std::int64_t> SubscribeProgress::watermark(std::size_t index) const {
  std::lock_guard lock(mutex_);
  return marks_[index].value();
}

std::vector<std::optional<std::int64_t>> SubscribeProgress::watermarks() const {
  std::lock_guard lock(mutex_);
  std::vector<std::optional<std::int64_t>> out;
  out.reserve(marks_.size());
  for (const auto& mark : marks_) {
    out.push_back(mark.value());
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
  return acked_.wait_for(lock, stop, timeout, [&] { return in_flight_ < limit; });
}

salesforce::ResumePoint SubscribeProgress::resume_point() {
  std::weak_ptr<SubscribeProgress> weak = weak_from_this();
  return [weak](const std::string& channel) -> std::optional<std::int64_t> {
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
