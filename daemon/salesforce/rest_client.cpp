#include "daemon/salesforce/rest_client.h"

#include "daemon/core/redact.h"
#include "daemon/ops/log.h"
#include "daemon/ops/log_fields.h"

namespace sfkb::salesforce {
namespace {

constexpr std::string_view kBodyHead = R"({"allOrNone":false,"records":[)";
constexpr std::string_view kBodyTail = "]}";

}  // namespace

std::string composite_body(const std::vector<std::string_view>& records) {
  std::size_t size = kBodyHead.size() + kBodyTail.size() + records.size();
  for (auto record : records) {
    size += record.size();
  }
  std::string body;
  body.reserve(size);
  body += kBodyHead;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i > 0) {
      body += ',';
    }
    body += records[i];
  }
  body += kBodyTail;
  return body;
}

RestClient::RestClient(http::Transport& transport, TokenSource& tokens, RestClientOptions options,
                       ops::Metrics& metrics)
    : transport_(transport),
      tokens_(tokens),
      options_(std::move(options)),
      metrics_(metrics),
      malformed_(metrics.counter(ops::Metric::kPublishMalformedReplies)) {}

std::string RestClient::composite_url(const std::string& instance_url) const {
  std::string base = instance_url;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  return base + "/services/data/v" + options_.api_version + "/composite/sobjects";
}

void RestClient::count_request(const std::string& status) {
  metrics_.counter(ops::Metric::kHttpRequests, {"composite", status}).inc();
}

core::Result<CompositeReply> RestClient::attempt(const Session& session, const std::string& body,
                                                 std::size_t count, std::stop_token stop) {
  http::Request request;
  request.method = "POST";
  request.url = composite_url(session.instance_url);
  request.headers = {{"Authorization", "Bearer " + session.access_token},
                     {"Content-Type", "application/json"},
                     {"Accept", "application/json"}};
  request.body = body;
  request.timeout = options_.request_timeout;
  auto response = transport_.perform(request, stop);
  if (!response) {
    count_request(response.error().kind == core::ErrorKind::kStopped ? "stopped" : "error");
    return response.error();
  }
  count_request(std::to_string(response->status));
  if (options_.org_limits) {
    if (auto usage = parse_limit_info(response->header("sforce-limit-info"))) {
      options_.org_limits->observe(kDailyApiRequests, *usage, "Sforce-Limit-Info");
    }
  }
  CompositeReply reply = decode_composite_reply(response->status, response->body, count);
  if (reply.malformed) {
    malformed_.inc();
    if (auto repeat = malformed_warnings_.admit()) {
      ops::warn(
          ops::logger("publish"), "composite reply not understood, retrying the batch: {} {} {}{}",
          ops::field("status", reply.status), ops::quoted_field("reason", reply.error_message),
          ops::quoted_field("body", core::redact_text(reply.snippet)), repeat->suffix());
    }
  }
  return reply;
}

core::Result<CompositeReply> RestClient::publish(const std::vector<std::string_view>& records,
                                                 std::stop_token stop) {
  auto session = tokens_.session(stop);
  if (!session) {
    return session.error();
  }
  const std::string body = composite_body(records);
  auto reply = attempt(session.value(), body, records.size(), stop);
  if (!reply || reply->kind != ReplyKind::kReauth) {
    return reply;
  }
  ops::logger("publish")->info("composite request rejected the token ({}), re-authenticating",
                               reply->error_code);
  auto renewed = tokens_.refresh(session.value(), stop);
  if (!renewed) {
    return renewed.error();
  }
  return attempt(renewed.value(), body, records.size(), stop);
}

}  // namespace sfkb::salesforce
