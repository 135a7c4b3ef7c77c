#include "daemon/salesforce/token_cache.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <rapidjson/document.h>

#include "daemon/core/redact.h"
#include "daemon/core/url.h"
#include "daemon/ops/log.h"
#include "daemon/ops/log_fields.h"

namespace sfkb::salesforce {
namespace {

// Salesforce accepts an assertion that expires within minutes; three leaves room for clock skew
// without making a leaked assertion useful for long.
constexpr auto kJwtLifetime = std::chrono::minutes(3);

const char* flow_name(config::AuthFlow flow) {
  switch (flow) {
    case config::AuthFlow::kJwtBearer:
      return "jwt_bearer";
    case config::AuthFlow::kClientCredentials:
      return "client_credentials";
    case config::AuthFlow::kRefreshToken:
      return "refresh_token";
    case config::AuthFlow::kPassword:
      return "password";
    case config::AuthFlow::kAccessToken:
      return "access_token";
  }
  return "unknown";
}

std::string strip_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

std::string snippet(std::string_view body) {
  constexpr size_t kMax = 200;
  return core::redact_text(body.substr(0, kMax));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("salesforce.auth.private_key_file: cannot read " + path);
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string json_string(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) {
    return {};
  }
  const auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) {
    return {};
  }
  return {it->value.GetString(), it->value.GetStringLength()};
}

}  // namespace

std::string org_id_from_identity_url(std::string_view url) {
  // https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SvQrAAK
  const auto scheme = url.find("://");
  const auto marker = url.find("/id/", scheme == std::string_view::npos ? 0 : scheme + 3);
  if (marker == std::string_view::npos) {
    return {};
  }
  const std::string_view rest = url.substr(marker + 4);
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) {
    return {};
  }
  const std::string_view org = rest.substr(0, slash);
  // Org IDs are 15 or 18 alphanumerics starting with the key prefix 00D.
  if ((org.size() != 15 && org.size() != 18) || org.substr(0, 3) != "00D" ||
      !std::all_of(org.begin(), org.end(),
                   [](char c) { return std::isalnum(static_cast<unsigned char>(c)); })) {
    return {};
  }
  return std::string(org);
}

std::string user_id_from_identity_url(std::string_view url) {
  // https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SvQrAAK
  if (org_id_from_identity_url(url).empty()) {
    return {};
  }
  const auto scheme = url.find("://");
  const auto marker = url.find("/id/", scheme == std::string_view::npos ? 0 : scheme + 3);
  std::string_view rest = url.substr(marker + 4);
  rest = rest.substr(rest.find('/') + 1);
  const std::string_view user = rest.substr(0, rest.find_first_of("/?#"));
  if ((user.size() != 15 && user.size() != 18) || user.substr(0, 3) != "005" ||
      !std::all_of(user.begin(), user.end(),
                   [](char c) { return std::isalnum(static_cast<unsigned char>(c)); })) {
    return {};
  }
  return std::string(user);
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const auto encode = [](std::string_view text, std::string& out) {
    for (const unsigned char c : text) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
  };
  std::string out;
  for (const auto& [key, value] : fields) {
    if (!out.empty()) {
      out += '&';
    }
    encode(key, out);
    out += '=';
    encode(value, out);
  }
  return out;
}

TokenCache::TokenCache(config::SalesforceConfig config, std::unique_ptr<http::Transport> transport,
                       ops::Metrics& metrics)
    : config_(std::move(config)),
      transport_(std::move(transport)),
      refreshes_(metrics.counter(ops::Metric::kTokenRefreshes)),
      metrics_(metrics) {
  config_.login_url = strip_trailing_slash(config_.login_url);
  const auto& auth = config_.auth;
  for (const auto* secret :
       {&auth.client_secret, &auth.password, &auth.refresh_token, &auth.access_token}) {
    core::register_secret(*secret);
  }
  if (auth.flow == config::AuthFlow::kJwtBearer) {
    const std::string pem =
        auth.private_key.empty() ? read_file(auth.private_key_file) : auth.private_key;
    auto signer = RsaSigner::from_pem(pem);
    if (!signer) {
      throw std::runtime_error("salesforce.auth: " + signer.error().message);
    }
    signer_ = std::move(signer).value();
  }
  if (auth.flow != config::AuthFlow::kAccessToken && !transport_) {
    throw std::invalid_argument("TokenCache: a transport is required for flow " +
                                std::string(flow_name(auth.flow)));
  }
}

std::string TokenCache::token_url() const {
  return config_.login_url + "/services/oauth2/token";
}

core::Result<Session> TokenCache::session(std::stop_token stop) {
  std::lock_guard lock(mutex_);
  if (current_) {
    return *current_;
  }
  return fetch_locked(stop);
}

core::Result<Session> TokenCache::refresh(const Session& rejected, std::stop_token stop) {
  std::lock_guard lock(mutex_);
  if (current_ && current_->generation != rejected.generation) {
    return *current_;  // someone else already renewed it while this caller was being refused
  }
  if (config_.auth.flow == config::AuthFlow::kAccessToken) {
    metrics_.counter(ops::Metric::kAuthFailures, {"fatal"}).inc();
    return core::fatal_error(
        "auth: the configured access_token was rejected and the access_token flow cannot "
        "obtain a new one");
  }
  current_.reset();
  return fetch_locked(stop);
}

std::vector<std::pair<std::string, std::string>> TokenCache::form_fields() const {
  const auto& auth = config_.auth;
  switch (auth.flow) {
    case config::AuthFlow::kJwtBearer:
      return {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}};
    case config::AuthFlow::kClientCredentials:
      return {{"grant_type", "client_credentials"},
              {"client_id", auth.client_id},
              {"client_secret", auth.client_secret}};
    case config::AuthFlow::kRefreshToken: {
      std::vector<std::pair<std::string, std::string>> fields = {
          {"grant_type", "refresh_token"},
          {"refresh_token", auth.refresh_token},
          {"client_id", auth.client_id}};
      if (!auth.client_secret.empty()) {
        fields.emplace_back("client_secret", auth.client_secret);
      }
      return fields;
    }
    case config::AuthFlow::kPassword:
      return {{"grant_type", "password"},
              {"client_id", auth.client_id},
              {"client_secret", auth.client_secret},
              {"username", auth.username},
              {"password", auth.password}};
    case config::AuthFlow::kAccessToken:
      break;
  }
  return {};
}

core::Result<Session> TokenCache::fetch_locked(std::stop_token stop) {
  const auto& auth = config_.auth;
  auto log = ops::logger("auth");
  const auto fail = [&](core::Error error) -> core::Result<Session> {
    metrics_
        .counter(ops::Metric::kAuthFailures,
                 {error.kind == core::ErrorKind::kFatal ? "fatal" : "retry"})
        .inc();
    if (error.kind != core::ErrorKind::kStopped) {
      ops::warn(log, "authentication failed ({}): {}", ops::field("flow", flow_name(auth.flow)),
                error.message);
    }
    return error;
  };

  if (auth.flow == config::AuthFlow::kAccessToken) {
    // No network: the token and instance come from the configuration (tests, the emulator).
    // No identity URL in this flow: the org is unknown (no sf.org_id header, no org check).
    Session session{auth.access_token, strip_trailing_slash(auth.instance_url), ++generation_, "",
                    ""};
    current_ = session;
    return session;
  }

  auto fields = form_fields();
  if (auth.flow == config::AuthFlow::kJwtBearer) {
    JwtClaims claims{auth.client_id, auth.username,
                     auth.audience.empty() ? config_.login_url : auth.audience,
                     std::chrono::system_clock::now() + kJwtLifetime};
    auto assertion = signer_->sign(claims);
    if (!assertion) {
      return fail(assertion.error());
    }
    core::register_secret(assertion.value());
    fields.emplace_back("assertion", std::move(assertion).value());
  }

  http::Request request;
  request.method = "POST";
  request.url = token_url();
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = form_encode(fields);
  request.timeout = config_.request_timeout;

  auto response = transport_->perform(request, stop);
  if (!response) {
    metrics_.counter(ops::Metric::kHttpRequests, {"token", "error"}).inc();
    return fail(response.error());
  }
  metrics_.counter(ops::Metric::kHttpRequests, {"token", std::to_string(response->status)}).inc();

  rapidjson::Document doc;
  doc.Parse(response->body.data(), response->body.size());
  const bool json_object = !doc.HasParseError() && doc.IsObject();

  if (response->status != 200) {
    const std::string error = json_object ? json_string(doc, "error") : "";
    const std::string description = json_object ? json_string(doc, "error_description") : "";
    std::string message =
        "token request to " + token_url() + " failed: HTTP " + std::to_string(response->status);
    if (!error.empty()) {
      message += ", error=" + error;
      if (!description.empty()) {
        message += ", error_description=" + description;
      }
    } else {
      message += ", body: " + snippet(response->body);
    }
    message = core::redact_text(message);
    // 5xx and 429 are the server's trouble and heal; any other refusal (invalid_grant,
    // invalid_client, unsupported_grant_type, ...) repeats identically until a person acts.
    const bool transient = response->status >= 500 || response->status == 429;
    return fail(transient ? core::retry_error(message) : core::fatal_error(message));
  }

  const std::string token = json_object ? json_string(doc, "access_token") : "";
  if (token.empty()) {
    return fail(
        core::retry_error("token response without access_token: " + snippet(response->body)));
  }
  core::register_secret(token);
  std::string instance = strip_trailing_slash(json_string(doc, "instance_url"));
  if (instance.empty()) {
    instance = config_.login_url;
  }
  // The access token goes to this URL with every request: https only (core/url.h). Fatal, as a
  // retry would get the same answer.
  if (auto problem = core::instance_url_problem(instance, config_.login_url); !problem.empty()) {
    return fail(core::fatal_error("auth: " + problem));
  }
  const std::string identity = json_string(doc, "id");
  Session session{token, instance, ++generation_, org_id_from_identity_url(identity),
                  user_id_from_identity_url(identity)};
  current_ = session;
  refreshes_.inc();
  ops::info(log, "obtained an access token ({}, {}, {}, {})",
            ops::field("flow", flow_name(auth.flow)), ops::field("instance_url", instance),
            ops::field("org_id", session.org_id.empty() ? "unknown" : session.org_id),
            ops::field("generation", session.generation));
  return session;
}

}  // namespace sfkb::salesforce
