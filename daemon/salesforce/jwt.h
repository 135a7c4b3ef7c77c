#pragma once
// The JWT bearer assertion of Salesforce's OAuth 2.0 JWT flow: RS256 over base64url(header) "."
// base64url(claims). Pure apart from the signature (OpenSSL EVP).

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/core/result.h"

namespace sfkb::salesforce {

// RFC 4648 §5 without padding.
std::string base64url_encode(std::string_view bytes);

struct JwtClaims {
  std::string issuer;   // iss: the connected app's consumer key (client_id)
  std::string subject;  // sub: the username
  std::string
      audience;  // aud: https://login.salesforce.com, https://test.salesforce.com or My Domain
  std::chrono::system_clock::time_point expires;  // exp, whole seconds
};

// The claims object as compact JSON (exposed for tests).
std::string jwt_claims_json(const JwtClaims& claims);

// An RSA private key parsed once (at start-up) and used for every assertion.
class RsaSigner {
 public:
  // Accepts PKCS#1 or PKCS#8 PEM. A PEM whose line breaks arrive as the two characters "\n"
  // (common when a key is put into an environment variable) is accepted too.
  // Errors: kFatal naming the problem, never the key.
  static core::Result<std::shared_ptr<const RsaSigner>> from_pem(std::string_view pem);
  ~RsaSigner();
  RsaSigner(const RsaSigner&) = delete;
  RsaSigner& operator=(const RsaSigner&) = delete;

  // The compact JWS "header.claims.signature".
  core::Result<std::string> sign(const JwtClaims& claims) const;

 private:
  struct Key;
  explicit RsaSigner(std::unique_ptr<Key> key);
  std::unique_ptr<Key> key_;
};

}  // namespace sfkb::salesforce
