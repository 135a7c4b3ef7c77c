#include "oauth.h"

#include <chrono>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "json_util.h"

namespace sfkb::emulator {
namespace {

constexpr const char* kJwtGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";

void send_error(httplib::Response& res, const std::string& error, const std::string& description) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("error");
  write_string(w, error);
  w.Key("error_description");
  write_string(w, description);
  w.EndObject();
  res.status = 400;
  res.set_content(sb.GetString(), "application/json;charset=UTF-8");
}

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

}  // namespace

void OAuthEndpoint::handle(const httplib::Request& req, httplib::Response& res) {
  const Options& o = org_.options;
  auto param = [&](const char* name) { return req.get_param_value(name); };
  std::string grant = param("grant_type");

  if (grant == kJwtGrant) {
    if (!jwt_) {
      send_error(res, "invalid_grant", "JWT bearer flow not enabled (start with --jwt-public-key)");
      return;
    }
    std::string why;
    auto claims = jwt_->verify(param("assertion"), why);
    if (!claims) {
      send_error(res, "invalid_grant", "invalid assertion: " + why);
      return;
    }
    if (!o.client_id.empty() && claims->iss != o.client_id) {
      send_error(res, "invalid_client_id", "client identifier invalid");
      return;
    }
    if (!o.username.empty() && claims->sub != o.username) {
      send_error(res, "invalid_grant", "user hasn't approved this consumer");
      return;
    }
    bool aud_ok = false;
    for (const auto& a : claims->aud) {
      std::string trimmed = a;
      while (!trimmed.empty() && trimmed.back() == '/') {
        trimmed.pop_back();
      }
      aud_ok = aud_ok || trimmed == "https://login.salesforce.com" ||
               trimmed == "https://test.salesforce.com" || trimmed == org_.base_url;
    }
    if (!aud_ok) {
      send_error(res, "invalid_grant", "audience is invalid");
      return;
    }
    auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    if (!claims->exp || *claims->exp <= now_s) {
      send_error(res, "invalid_grant", "expired authorization code");
      return;
    }
  } else if (grant == "client_credentials") {
    if (o.client_id.empty() || o.client_secret.empty()) {
      send_error(res, "invalid_grant",
                 "client credentials flow not enabled (start with --client-id/--client-secret)");
      return;
    }
    if (param("client_id") != o.client_id || param("client_secret") != o.client_secret) {
      send_error(res, "invalid_client", "invalid client credentials");
      return;
    }
  } else if (grant == "refresh_token") {
    if (o.refresh_token.empty()) {
      send_error(res, "invalid_grant",
                 "refresh token flow not enabled (start with --refresh-token)");
      return;
    }
    if (!o.client_id.empty() && param("client_id") != o.client_id) {
      send_error(res, "invalid_client_id", "client identifier invalid");
      return;
    }
    if (req.has_param("client_secret") && !o.client_secret.empty() &&
        param("client_secret") != o.client_secret) {
      send_error(res, "invalid_client", "invalid client credentials");
      return;
    }
    if (param("refresh_token") != o.refresh_token) {
      send_error(res, "invalid_grant", "expired access/refresh token");
      return;
    }
  } else if (grant == "password") {
    if (o.username.empty() || o.password.empty()) {
      send_error(res, "invalid_grant",
                 "password flow not enabled (start with --username/--password)");
      return;
    }
    if ((!o.client_id.empty() && param("client_id") != o.client_id) ||
        (!o.client_secret.empty() && param("client_secret") != o.client_secret)) {
      send_error(res, "invalid_client", "invalid client credentials");
      return;
    }
    if (param("username") != o.username || param("password") != o.password) {
      send_error(res, "invalid_grant", "authentication failure");
      return;
    }
  } else if (grant.empty()) {
    send_error(res, "unsupported_grant_type", "grant type not supported");
    return;
  } else {
    send_error(res, "unsupported_grant_type", "grant type not supported");
    return;
  }

  std::string token = org_.ids.access_token();
  auto issued_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::string issued_at = std::to_string(issued_ms);
  std::string org_id;
  {
    // One lock: a token is never issued for one org with the identity URL of another.
    std::lock_guard lock(org_.mutex);
    org_id = org_.org_id;
    org_.issued_tokens.insert(token);
    ++org_.stats.tokens_issued;
  }
  std::string id_url = org_.base_url + "/id/" + org_id + "/005xx000001SvQrAAK";
  // Salesforce signs id + issued_at with the consumer secret (HMAC-SHA256, base64).
  std::string to_sign = id_url + issued_at;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  std::string secret = o.client_secret.empty() ? "sf-emulator" : o.client_secret;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(to_sign.data()), to_sign.size(), mac, &mac_len);
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("access_token");
  write_string(w, token);
  w.Key("instance_url");
  write_string(w, org_.base_url);
  w.Key("id");
  write_string(w, id_url);
  w.Key("token_type");
  w.String("Bearer");
  w.Key("issued_at");
  write_string(w, issued_at);
  w.Key("signature");
  write_string(w, base64(mac, mac_len));
  w.Key("scope");
  w.String("api");
  w.EndObject();
  res.status = 200;
  res.set_content(sb.GetString(), "application/json;charset=UTF-8");
}

}  // namespace sfkb::emulator
