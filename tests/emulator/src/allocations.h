#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "json_util.h"

namespace sfkb::emulator {

// The org's allocations that a bridge spends, named as Salesforce's REST `limits` resource
// reports them (GET /services/data/vNN.0/limits):
//   DailyApiRequests               REST requests (a composite request counts once)
//   HourlyPublishedPlatformEvents  events accepted by REST publish
//   DailyDeliveredPlatformEvents   events delivered to CometD clients
// Salesforce counts over rolling windows; the emulator counts until an admin call rolls the hour
// or the day over, so that a test decides when an allocation comes back. Not thread-safe: the
// org's mutex guards it.
class Allocations {
 public:
  static constexpr const char* kDailyApiRequests = "DailyApiRequests";
  static constexpr const char* kHourlyPublished = "HourlyPublishedPlatformEvents";
  static constexpr const char* kDailyDelivered = "DailyDeliveredPlatformEvents";

  struct Allocation {
    std::int64_t max = 0;
    std::int64_t used = 0;
    std::int64_t remaining() const { return max > used ? max - used : 0; }
  };

  // Defaults so large that no test or benchmark reaches them; `max_overrides` (name -> Max, from
  // --limit NAME=MAX) replaces them.
  explicit Allocations(const std::map<std::string, std::int64_t>& max_overrides = {});

  // True when `name` is one of the three names above.
  static bool known(const std::string& name);

  // One REST API request: false (nothing counted) when the daily allocation is spent, which
  // Salesforce answers with 403 REQUEST_LIMIT_EXCEEDED.
  bool take_api_request();
  // Up to `n` published events: how many the hourly allocation still allows (all counted).
  std::int64_t take_published(std::int64_t n);
  // Gives back events counted by take_published that were rolled back after all (allOrNone).
  void give_back_published(std::int64_t n);
  // Events written into CometD replies (a reply takes at most what remains); once spent, connects
  // and subscribes fail with the daily delivery error.
  void add_delivered(std::int64_t n) { daily_delivered_.used += n; }
  bool delivery_spent() const { return daily_delivered_.used >= daily_delivered_.max; }

  // Remaining of one allocation by name; 0 for an unknown name.
  std::int64_t remaining(const std::string& name) const;

  // "api-usage=USED/MAX", the Sforce-Limit-Info value Salesforce puts on every REST response.
  std::string limit_info() const;

  // The hour rolled over: HourlyPublishedPlatformEvents starts again at 0.
  void roll_over_hour() { hourly_published_.used = 0; }
  // The day rolled over: every allocation starts again at 0.
  void roll_over_day();

  // Sets Max and/or Used of one allocation; false for an unknown name.
  bool set(const std::string& name, std::optional<std::int64_t> max,
           std::optional<std::int64_t> used);

  // {"DailyApiRequests":{"Max":M,"Remaining":R},...} as the limits resource has it; with
  // `with_used`, also "Used" (the admin view).
  void write(JsonWriter& w, bool with_used) const;

 private:
  Allocation* find(const std::string& name);

  Allocation daily_api_requests_;
  Allocation hourly_published_;
  Allocation daily_delivered_;
};

}  // namespace sfkb::emulator
