#pragma once
// The org's allocations as the bridge sees them (docs/SALESFORCE_PROTOCOL.md "Limits and
// allocations"): `Sforce-Limit-Info: api-usage=USED/MAX` on every REST response, and the REST
// `limits` resource that a LimitsPoller (limits_poller.h) reads at a slow interval. OrgLimits is
// the one shared view: Prometheus gauges (used, max) per allocation, one warning per crossing of
// the configured share, and the readings handed to whoever derives a budget from them
// (pipeline/publish_budget.h).
//
// The parsers are pure (no I/O, never throw), so they can be unit-tested and fuzzed.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/ops/metrics.h"

namespace sfkb::salesforce {

// Allocation names exactly as Salesforce's limits resource reports them.
inline constexpr const char* kDailyApiRequests = "DailyApiRequests";
inline constexpr const char* kHourlyPublishedPlatformEvents = "HourlyPublishedPlatformEvents";
inline constexpr const char* kDailyDeliveredPlatformEvents = "DailyDeliveredPlatformEvents";
// The ones the bridge watches, in the order of its gauges.
inline const std::vector<std::string>& watched_allocations() {
  static const std::vector<std::string> names = {kDailyApiRequests, kHourlyPublishedPlatformEvents,
                                                 kDailyDeliveredPlatformEvents};
  return names;
}

struct Usage {
  std::int64_t used = 0;
  std::int64_t max = 0;
  std::int64_t remaining() const { return max > used ? max - used : 0; }
  bool operator==(const Usage&) const = default;
};

// "api-usage=25/5000; per-app-api-usage=17/250(appName=x)" -> {25, 5000}. nullopt when the header
// is empty or has no well-formed api-usage member. USED may exceed MAX (API bursts).
std::optional<Usage> parse_limit_info(std::string_view header);

// The body of GET /services/data/vNN.0/limits -> the watched allocations it names ({Max,
// Remaining} -> used = Max - Remaining). Entries that are absent or not numbers are left out; a
// body that is not a JSON object gives nullopt.
std::optional<std::map<std::string, Usage>> parse_limits_resource(std::string_view body);

// Thread-safe: REST clients on publish pipeline threads and the poller's thread report into it.
class OrgLimits {
 public:
  using Listener = std::function<void(const std::string& name, const Usage& usage)>;

  // `warn_share` (0 < s <= 1): a warning is logged when used/max reaches it, once per crossing
  // (again only after a reading below it, e.g. when the window rolled over).
  explicit OrgLimits(double warn_share = 0.8, ops::Metrics& metrics = ops::Metrics::global());
  OrgLimits(const OrgLimits&) = delete;
  OrgLimits& operator=(const OrgLimits&) = delete;

  // A reading of one allocation (from a header or the limits resource); `source` is for the log.
  void observe(const std::string& name, const Usage& usage, std::string_view source);
  // The latest reading of `name`, if any.
  std::optional<Usage> latest(const std::string& name) const;
  // Called (on the observing thread, outside the lock) with every reading from now on.
  void listen(Listener listener);

 private:
  struct Entry {
    ops::Gauge* used = nullptr;
    ops::Gauge* max = nullptr;
    ops::Counter* warnings = nullptr;
    std::optional<Usage> latest;
    bool above = false;  // the last reading was at or above the warning share
  };
  Entry& entry_locked(const std::string& name);

  const double warn_share_;
  ops::Metrics& metrics_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::vector<Listener> listeners_;
};

}  // namespace sfkb::salesforce
