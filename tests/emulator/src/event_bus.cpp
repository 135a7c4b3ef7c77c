#include "event_bus.h"

#include <algorithm>

namespace sfkb::emulator {

EventBus::EventBus(std::size_t retention, std::uint64_t seed)
    : retention_(std::max<std::size_t>(retention, 1)), rng_(seed) {}

std::pair<std::int64_t, std::int64_t> EventBus::append(const std::string& channel,
                                                       std::vector<std::string> prefixes) {
  Log& log = logs_[channel];
  std::int64_t first = 0;
  for (auto& prefix : prefixes) {
    log.last_assigned += static_cast<std::int64_t>(rng_() % 5) + 1;
    prefix.append(std::to_string(log.last_assigned)).append("}}}");
    log.events.push_back(
        {log.last_assigned, std::make_shared<const std::string>(std::move(prefix))});
    if (first == 0) {
      first = log.last_assigned;
    }
  }
  trim(log);
  return {first, log.last_assigned};
}

void EventBus::trim(Log& log) {
  while (log.events.size() > retention_) {
    log.last_dropped = log.events.front().replay_id;
    log.events.pop_front();
  }
}

std::optional<std::int64_t> EventBus::cursor_for(const std::string& channel,
                                                 std::int64_t replay) const {
  auto it = logs_.find(channel);
  std::int64_t last_assigned = it == logs_.end() ? 0 : it->second.last_assigned;
  std::int64_t last_dropped = it == logs_.end() ? 0 : it->second.last_dropped;
  if (replay == -1) {
    return last_assigned;
  }
  if (replay == -2) {
    return last_dropped;
  }
  if (replay < last_dropped || replay > last_assigned) {
    return std::nullopt;
  }
  return replay;
}

std::size_t EventBus::collect(const std::string& channel, std::int64_t& cursor,
                              std::size_t max_events, std::size_t& byte_budget,
                              std::vector<StoredEvent>& out) const {
  auto it = logs_.find(channel);
  if (it == logs_.end() || max_events == 0) {
    return 0;
  }
  const auto& events = it->second.events;
  auto pos = std::upper_bound(events.begin(), events.end(), cursor,
                              [](std::int64_t c, const StoredEvent& e) { return c < e.replay_id; });
  std::size_t n = 0;
  for (; pos != events.end() && n < max_events; ++pos) {
    std::size_t size = pos->json->size() + 1;
    if (n > 0 && size > byte_budget) {
      break;
    }
    byte_budget = size > byte_budget ? 0 : byte_budget - size;
    out.push_back(*pos);
    cursor = pos->replay_id;
    ++n;
  }
  return n;
}

bool EventBus::has_events_after(const std::string& channel, std::int64_t cursor) const {
  auto it = logs_.find(channel);
  return it != logs_.end() && !it->second.events.empty() &&
         it->second.events.back().replay_id > cursor;
}

void EventBus::set_retention(std::size_t retention) {
  retention_ = std::max<std::size_t>(retention, 1);
  for (auto& [channel, log] : logs_) {
    trim(log);
  }
}

void EventBus::clear() {
  logs_.clear();
}

std::vector<EventBus::ChannelStats> EventBus::stats() const {
  std::vector<ChannelStats> out;
  for (const auto& [channel, log] : logs_) {
    ChannelStats s;
    s.channel = channel;
    s.retained = log.events.size();
    s.oldest_replay_id = log.events.empty() ? 0 : log.events.front().replay_id;
    s.newest_replay_id = log.last_assigned;
    s.last_dropped_replay_id = log.last_dropped;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const ChannelStats& a, const ChannelStats& b) { return a.channel < b.channel; });
  return out;
}

}  // namespace sfkb::emulator
