#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <openssl/evp.h>

namespace sfkb::emulator {

struct JwtClaims {
  std::string iss;
  std::string sub;
  std::vector<std::string> aud;  // a string or an array in the token
  std::optional<long long> exp;
};

// Verifies RS256 JWT bearer assertions with one RSA public key.
class JwtVerifier {
 public:
  // Reads a PEM public key (SubjectPublicKeyInfo) or an X.509 certificate; throws on failure.
  static JwtVerifier from_pem_file(const std::string& path);

  // The claims when the assertion is well formed, uses RS256 and its signature verifies;
  // otherwise nullopt and `why` says which part failed.
  std::optional<JwtClaims> verify(const std::string& assertion, std::string& why) const;

 private:
  struct KeyDeleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  std::shared_ptr<EVP_PKEY> key_;
};

std::optional<std::string> base64url_decode(const std::string& in);

}  // namespace sfkb::emulator
