#include "allocations.h"

#include <algorithm>

namespace sfkb::emulator {
namespace {

// Far beyond any test or benchmark run, so that only a test that asks for a small allocation
// ever meets a limit error.
constexpr std::int64_t kLargeAllocation = 1'000'000'000'000;

}  // namespace

Allocations::Allocations(const std::map<std::string, std::int64_t>& max_overrides) {
  daily_api_requests_.max = kLargeAllocation;
  hourly_published_.max = kLargeAllocation;
  daily_delivered_.max = kLargeAllocation;
  for (const auto& [name, max] : max_overrides) {
    set(name, max, std::nullopt);
  }
}

bool Allocations::known(const std::string& name) {
  return name == kDailyApiRequests || name == kHourlyPublished || name == kDailyDelivered;
}

Allocations::Allocation* Allocations::find(const std::string& name) {
  if (name == kDailyApiRequests) {
    return &daily_api_requests_;
  }
  if (name == kHourlyPublished) {
    return &hourly_published_;
  }
  if (name == kDailyDelivered) {
    return &daily_delivered_;
  }
  return nullptr;
}

std::int64_t Allocations::remaining(const std::string& name) const {
  auto* a = const_cast<Allocations*>(this)->find(name);
  return a == nullptr ? 0 : a->remaining();
}

bool Allocations::take_api_request() {
  if (daily_api_requests_.used >= daily_api_requests_.max) {
    return false;
  }
  ++daily_api_requests_.used;
  return true;
}

std::int64_t Allocations::take_published(std::int64_t n) {
  const std::int64_t granted = std::clamp<std::int64_t>(n, 0, hourly_published_.remaining());
  hourly_published_.used += granted;
  return granted;
}

void Allocations::give_back_published(std::int64_t n) {
  hourly_published_.used = std::max<std::int64_t>(0, hourly_published_.used - n);
}

std::string Allocations::limit_info() const {
  return "api-usage=" + std::to_string(daily_api_requests_.used) + "/" +
         std::to_string(daily_api_requests_.max);
}

void Allocations::roll_over_day() {
  daily_api_requests_.used = 0;
  hourly_published_.used = 0;
  daily_delivered_.used = 0;
}

bool Allocations::set(const std::string& name, std::optional<std::int64_t> max,
                      std::optional<std::int64_t> used) {
  Allocation* a = find(name);
  if (a == nullptr) {
    return false;
  }
  if (max) {
    a->max = std::max<std::int64_t>(0, *max);
  }
  if (used) {
    a->used = std::max<std::int64_t>(0, *used);
  }
  return true;
}

void Allocations::write(JsonWriter& w, bool with_used) const {
  auto one = [&](const char* name, const Allocation& a) {
    w.Key(name);
    w.StartObject();
    w.Key("Max");
    w.Int64(a.max);
    w.Key("Remaining");
    w.Int64(a.remaining());
    if (with_used) {
      w.Key("Used");
      w.Int64(a.used);
    }
    w.EndObject();
  };
  w.StartObject();
  one(kDailyApiRequests, daily_api_requests_);
  one(kDailyDelivered, daily_delivered_);
  one(kHourlyPublished, hourly_published_);
  w.EndObject();
}

}  // namespace sfkb::emulator
