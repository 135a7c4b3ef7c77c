#pragma once
// The one TokenSource of the daemon: authenticates with the configured OAuth 2.0 flow, caches the
// session and renews it when a caller reports it rejected. Shared by the subscribe and the publish
// side (different threads); its own Transport is used under a mutex, one token request at a time.

#include <memory>
#include <mutex>
#include <optional>

#include "daemon/config/config.h"
#include "daemon/http/transport.h"
#include "daemon/ops/metrics.h"
#include "daemon/salesforce/jwt.h"
#include "daemon/salesforce/token_source.h"

namespace sfkb::salesforce {

// Form body of an OAuth token request: application/x-www-form-urlencoded (RFC 3986 unreserved
// characters kept, everything else %XX). Exposed for tests.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

class TokenCache final : public TokenSource {
 public:
  // Throws std::runtime_error at start-up when the configuration cannot work (e.g. a JWT key that
  // cannot be read or parsed); the message names the problem, never the secret.
  TokenCache(config::SalesforceConfig config, std::unique_ptr<http::Transport> transport,
             ops::Metrics& metrics = ops::Metrics::global());

  // Errors are kRetry (network, 5xx, 429: the caller backs off) or kFatal (the login was refused:
  // invalid_grant, invalid_client, ...; or a static access_token that was rejected), kStopped.
  core::Result<Session> session(std::stop_token stop) override;
  core::Result<Session> refresh(const Session& rejected, std::stop_token stop) override;

  // The URL tokens are requested from: <login_url>/services/oauth2/token.
  std::string token_url() const;

 private:
  core::Result<Session> fetch_locked(std::stop_token stop);
  std::vector<std::pair<std::string, std::string>> form_fields() const;

  config::SalesforceConfig config_;
  std::unique_ptr<http::Transport> transport_;
  std::shared_ptr<const RsaSigner> signer_;  // jwt_bearer only
  ops::Counter& refreshes_;
  ops::Metrics& metrics_;

  // Held for the whole token request: it serialises the transport and makes "at most one refresh
  // in flight" hold - a concurrent caller waits here and then finds the new generation.
  std::mutex mutex_;
  std::optional<Session> current_;
  std::uint64_t generation_ = 0;
};

}  // namespace sfkb::salesforce
