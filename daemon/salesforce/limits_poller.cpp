#include "daemon/salesforce/limits_poller.h"

#include "daemon/core/redact.h"
#include "daemon/core/stop.h"
#include "daemon/ops/log.h"
#include "daemon/salesforce/rest_result.h"

namespace sfkb::salesforce {

LimitsPoller::LimitsPoller(std::unique_ptr<http::Transport> transport, TokenSource& tokens,
                           std::shared_ptr<OrgLimits> limits, LimitsPollerOptions options)
    : transport_(std::move(transport)),
      tokens_(tokens),
      limits_(std::move(limits)),
      options_(std::move(options)) {}

std::string LimitsPoller::limits_url(const std::string& instance_url) const {
  std::string base = instance_url;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  return base + "/services/data/v" + options_.api_version + "/limits";
}

core::Result<http::Response> LimitsPoller::get(const Session& session, std::stop_token stop) {
  http::Request request;
  request.method = "GET";
  request.url = limits_url(session.instance_url);
  request.headers = {{"Authorization", "Bearer " + session.access_token},
                     {"Accept", "application/json"}};
  request.timeout = options_.request_timeout;
  return transport_->perform(request, stop);
}

core::Status LimitsPoller::poll_once(std::stop_token stop) {
  auto session = tokens_.session(stop);
  if (!session) {
    if (session.error().kind == core::ErrorKind::kStopped) {
      return session.status();
    }
    return core::retry_error(session.error().message);
  }
  auto response = get(session.value(), stop);
  if (response && response->status == 401) {
    auto renewed = tokens_.refresh(session.value(), stop);
    if (!renewed) {
      return core::retry_error(renewed.error().message);
    }
    response = get(renewed.value(), stop);
  }
  if (!response) {
    return response.status();
  }
  // The call is an API request like any other: its header is a reading too.
  if (auto usage = parse_limit_info(response->header("sforce-limit-info"))) {
    limits_->observe(kDailyApiRequests, *usage, "Sforce-Limit-Info");
  }
  if (response->status != 200) {
    return core::retry_error("limits resource answered HTTP " + std::to_string(response->status) +
                             ": " + core::redact_text(body_snippet(response->body)));
  }
  auto parsed = parse_limits_resource(response->body);
  if (!parsed) {
    return core::retry_error("limits resource reply is not a JSON object: " +
                             core::redact_text(body_snippet(response->body)));
  }
  for (const auto& [name, usage] : *parsed) {
    limits_->observe(name, usage, "limits resource");
  }
  ops::logger("limits")->debug("limits resource read: {} allocation(s)", parsed->size());
  return core::Status::ok();
}

void LimitsPoller::run(std::stop_token stop) {
  auto log = ops::logger("limits");
  log->info("reading the org's allocations from the limits resource every {} s",
            std::chrono::duration_cast<std::chrono::seconds>(options_.interval).count());
  while (!stop.stop_requested()) {
    auto status = poll_once(stop);
    if (!status.is_ok() && status.kind() != core::ErrorKind::kStopped) {
      if (auto repeat = warnings_.admit()) {
        log->warn(
            "cannot read the limits resource (the user needs View Setup and Configuration): "
            "{}{}",
            status.message(), repeat->suffix());
      }
    }
    core::interruptible_sleep(stop, options_.interval);
  }
}

}  // namespace sfkb::salesforce
