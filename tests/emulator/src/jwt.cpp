#include "jwt.h"

#include <cstdio>
#include <stdexcept>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <rapidjson/document.h>

namespace sfkb::emulator {

std::optional<std::string> base64url_decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '-' || c == '+')
      return 62;
    if (c == '_' || c == '/')
      return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') {
      break;
    }
    int v = value(c);
    if (v < 0) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

JwtVerifier JwtVerifier::from_pem_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "r"), &std::fclose);
  if (!file) {
    throw std::runtime_error(path + ": cannot open the JWT public key");
  }
  EVP_PKEY* key = PEM_read_PUBKEY(file.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    std::rewind(file.get());
    std::unique_ptr<X509, void (*)(X509*)> cert(
        PEM_read_X509(file.get(), nullptr, nullptr, nullptr), &X509_free);
    if (cert) {
      key = X509_get_pubkey(cert.get());
    }
  }
  if (key == nullptr) {
    throw std::runtime_error(path + ": not a PEM public key or certificate");
  }
  JwtVerifier v;
  v.key_ = std::shared_ptr<EVP_PKEY>(key, KeyDeleter{});
  return v;
}

std::optional<JwtClaims> JwtVerifier::verify(const std::string& assertion, std::string& why) const {
  auto dot1 = assertion.find('.');
  auto dot2 = dot1 == std::string::npos ? std::string::npos : assertion.find('.', dot1 + 1);
  if (dot2 == std::string::npos) {
    why = "not a JWT (expected header.payload.signature)";
    return std::nullopt;
  }
  auto header = base64url_decode(assertion.substr(0, dot1));
  auto payload = base64url_decode(assertion.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = base64url_decode(assertion.substr(dot2 + 1));
  if (!header || !payload || !signature) {
    why = "bad base64url";
    return std::nullopt;
  }
  rapidjson::Document h;
  h.Parse(header->c_str(), header->size());
  if (h.HasParseError() || !h.IsObject() || !h.HasMember("alg") || !h["alg"].IsString() ||
      std::string(h["alg"].GetString()) != "RS256") {
    why = "header alg must be RS256";
    return std::nullopt;
  }
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::string signed_part = assertion.substr(0, dot2);
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestVerify(
          ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
          reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) != 1) {
    why = "signature does not verify";
    return std::nullopt;
  }
  rapidjson::Document p;
  p.Parse(payload->c_str(), payload->size());
  if (p.HasParseError() || !p.IsObject()) {
    why = "payload is not a JSON object";
    return std::nullopt;
  }
  JwtClaims claims;
  if (p.HasMember("iss") && p["iss"].IsString())
    claims.iss = p["iss"].GetString();
  if (p.HasMember("sub") && p["sub"].IsString())
    claims.sub = p["sub"].GetString();
  if (p.HasMember("aud")) {
    if (p["aud"].IsString()) {
      claims.aud.push_back(p["aud"].GetString());
    } else if (p["aud"].IsArray()) {
      for (const auto& a : p["aud"].GetArray()) {
        if (a.IsString())
          claims.aud.push_back(a.GetString());
      }
    }
  }
  if (p.HasMember("exp") && p["exp"].IsNumber()) {
    claims.exp = static_cast<long long>(p["exp"].GetDouble());
  }
  return claims;
}

}  // namespace sfkb::emulator
