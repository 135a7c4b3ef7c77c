#include "daemon/salesforce/limits.h"

#include <charconv>

#include <rapidjson/document.h>

#include "daemon/core/text.h"
#include "daemon/ops/log.h"

namespace sfkb::salesforce {
namespace {

std::optional<std::int64_t> number(std::string_view s) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<Usage> parse_limit_info(std::string_view header) {
  while (!header.empty()) {
    const auto semicolon = header.find(';');
    std::string_view member = core::trim(header.substr(0, semicolon));
    header =
        semicolon == std::string_view::npos ? std::string_view() : header.substr(semicolon + 1);
    constexpr std::string_view kKey = "api-usage=";
    if (member.substr(0, kKey.size()) != kKey) {
      continue;
    }
    member.remove_prefix(kKey.size());
    const auto slash = member.find('/');
    if (slash == std::string_view::npos) {
      return std::nullopt;
    }
    auto used = number(member.substr(0, slash));
    auto max = number(member.substr(slash + 1));
    if (!used || !max) {
      return std::nullopt;
    }
    return Usage{*used, *max};
  }
  return std::nullopt;
}

std::optional<std::map<std::string, Usage>> parse_limits_resource(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return std::nullopt;
  }
  std::map<std::string, Usage> out;
  for (const auto& name : watched_allocations()) {
    auto it = doc.FindMember(name.c_str());
    if (it == doc.MemberEnd() || !it->value.IsObject()) {
      continue;
    }
    const auto& v = it->value;
    auto max = v.FindMember("Max");
    auto remaining = v.FindMember("Remaining");
    if (max == v.MemberEnd() || remaining == v.MemberEnd() || !max->value.IsInt64() ||
        !remaining->value.IsInt64() || max->value.GetInt64() < 0) {
      continue;
    }
    const std::int64_t m = max->value.GetInt64();
    // Remaining can be negative on Salesforce when a burst went past Max.
    out[name] = Usage{m - remaining->value.GetInt64(), m};
  }
  return out;
}

OrgLimits::OrgLimits(double warn_share, ops::Metrics& metrics)
    : warn_share_(warn_share), metrics_(metrics) {
  std::lock_guard lock(mutex_);
  for (const auto& name : watched_allocations()) {
    entry_locked(name);  // the gauges exist from the start, at 0 until the first reading
  }
}

OrgLimits::Entry& OrgLimits::entry_locked(const std::string& name) {
  auto& e = entries_[name];
  if (e.used == nullptr) {
    e.used = &metrics_.gauge(ops::Metric::kSalesforceLimitUsed, {name});
    e.max = &metrics_.gauge(ops::Metric::kSalesforceLimitMax, {name});
    e.warnings = &metrics_.counter(ops::Metric::kSalesforceLimitWarnings, {name});
  }
  return e;
}

void OrgLimits::observe(const std::string& name, const Usage& usage, std::string_view source) {
  std::vector<Listener> listeners;
  bool crossed = false;
  {
    std::lock_guard lock(mutex_);
    auto& e = entry_locked(name);
    e.latest = usage;
    e.used->set(static_cast<double>(usage.used));
    e.max->set(static_cast<double>(usage.max));
    const bool above = usage.max > 0 && static_cast<double>(usage.used) >=
                                            warn_share_ * static_cast<double>(usage.max);
    crossed = above && !e.above;
    e.above = above;
    if (crossed) {
      e.warnings->inc();
    }
    listeners = listeners_;
  }
  if (crossed) {
    ops::logger("limits")->warn(
        "org allocation {} is {:.0f}% used ({} of {}, from {}); limits.warn_at is {:.0f}%: the "
        "allocation is shared by every integration of the org",
        name, 100.0 * static_cast<double>(usage.used) / static_cast<double>(usage.max), usage.used,
        usage.max, source, 100.0 * warn_share_);
  }
  for (const auto& listener : listeners) {
    listener(name, usage);
  }
}

std::optional<Usage> OrgLimits::latest(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  return it == entries_.end() ? std::nullopt : it->second.latest;
}

void OrgLimits::listen(Listener listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

}  // namespace sfkb::salesforce
