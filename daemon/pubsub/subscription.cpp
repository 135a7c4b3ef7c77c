#include "daemon/pubsub/subscription.h"

#include <algorithm>
#include <cctype>

namespace sfkb::pubsub {
namespace {

// grpc::StatusCode values, spelled here so that this file needs no gRPC header.
constexpr int kInvalidArgument = 3;
constexpr int kNotFound = 5;
constexpr int kPermissionDenied = 7;
constexpr int kResourceExhausted = 8;
constexpr int kFailedPrecondition = 9;
constexpr int kUnavailable = 14;
constexpr int kDeadlineExceeded = 4;
constexpr int kUnauthenticated = 16;
constexpr int kCancelled = 1;

bool contains_folded(std::string_view text, std::string_view needle) {
  return std::search(text.begin(), text.end(), needle.begin(), needle.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         }) != text.end();
}

}  // namespace

FlowWindow::FlowWindow(std::size_t window) : window_(std::max<std::size_t>(1, window)) {}

std::int32_t FlowWindow::grant() {
  const std::size_t used = requested_ + queued_;
  if (used >= window_) {
    return 0;
  }
  const std::size_t room = window_ - used;
  const std::size_t full = std::min<std::size_t>(window_, kMaxNumRequested);
  if (room < (full + 1) / 2) {
    return 0;
  }
  const auto n = static_cast<std::int32_t>(std::min<std::size_t>(room, kMaxNumRequested));
  requested_ += static_cast<std::size_t>(n);
  return n;
}

std::size_t FlowWindow::received(std::size_t count) {
  const std::size_t excess = count > requested_ ? count - requested_ : 0;
  requested_ -= count - excess;
  queued_ += count;
  return excess;
}

void FlowWindow::taken(std::size_t count) {
  queued_ -= std::min(count, queued_);
}

void FlowWindow::reset(std::size_t dropped) {
  requested_ = 0;
  queued_ -= std::min(dropped, queued_);
}

std::size_t channel_window(std::size_t max_in_flight_events, std::size_t channels) {
  return std::max<std::size_t>(1, max_in_flight_events / std::max<std::size_t>(1, channels));
}

core::ReplayId Start::as_position() const {
  switch (preset) {
    case Preset::kCustom:
      return core::ReplayId::opaque(replay_id);
    case Preset::kEarliest:
      return core::ReplayId::cometd(core::ReplayPreset::kEarliest);
    case Preset::kLatest:
      break;
  }
  return core::ReplayId::cometd(core::ReplayPreset::kLatest);
}

std::optional<Start> choose_start(const salesforce::ChannelSubscription& channel,
                                  const std::optional<core::ReplayId>& fallback,
                                  const std::optional<core::ReplayId>& resumed,
                                  bool subscribed_before) {
  core::ReplayId from = channel.start;
  std::string source = "configured start";
  if (fallback) {
    from = *fallback;
    source = "invalid-replay fallback";
  } else if (resumed) {
    from = *resumed;
    source = "last acknowledged";
  }
  Start start;
  start.source = source;
  if (!from.is_cometd()) {
    start.preset = Start::Preset::kCustom;
    start.replay_id = from.bytes();
    return start;
  }
  const auto preset = from.preset();
  if (!preset) {
    return std::nullopt;  // a CometD replay ID: no position of this API
  }
  start.preset =
      *preset == core::ReplayPreset::kEarliest ? Start::Preset::kEarliest : Start::Preset::kLatest;
  if (start.preset == Start::Preset::kLatest && !fallback && subscribed_before) {
    start.preset = Start::Preset::kEarliest;
    start.source = "earliest: nothing acknowledged yet, latest again could skip events";
  }
  return start;
}

Reaction classify(int grpc_code, std::string_view error_code, std::string_view message,
                  bool custom_start) {
  // Salesforce names the cause in the error-code trailer
  // (sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted, ...auth.error, ...); the
  // status code and message are the fallback for servers that send none.
  if (grpc_code == kUnauthenticated || contains_folded(error_code, "auth")) {
    return Reaction::kReauth;
  }
  if (custom_start && (contains_folded(error_code, "replayid") ||
                       ((grpc_code == kInvalidArgument || grpc_code == kFailedPrecondition) &&
                        contains_folded(message, "replay")))) {
    return Reaction::kInvalidReplay;
  }
  if (contains_folded(error_code, "limit.exceeded")) {
    return Reaction::kDailyLimit;
  }
  return Reaction::kRetry;
}

const char* restart_reason(Reaction reaction, int grpc_code) {
  switch (reaction) {
    case Reaction::kReauth:
      return "auth";
    case Reaction::kInvalidReplay:
      return "invalid_replay";
    case Reaction::kDailyLimit:
      return "daily_limit";
    case Reaction::kRetry:
      break;
  }
  switch (grpc_code) {
    case kUnavailable:
      return "unavailable";
    case kDeadlineExceeded:
    case kCancelled:
      return "keepalive";
    case kNotFound:
    case kPermissionDenied:
      return "refused";
    case kResourceExhausted:
      return "exhausted";
    default:
      return "error";
  }
}

}  // namespace sfkb::pubsub
