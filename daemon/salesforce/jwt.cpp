#include "daemon/salesforce/jwt.h"

#include <array>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sfkb::salesforce {
namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown OpenSSL error";
  }
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (rest == 2) {
    const unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

std::string jwt_claims_json(const JwtClaims& claims) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("iss");
  writer.String(claims.issuer);
  writer.Key("sub");
  writer.String(claims.subject);
  writer.Key("aud");
  writer.String(claims.audience);
  writer.Key("exp");
  writer.Int64(
      std::chrono::duration_cast<std::chrono::seconds>(claims.expires.time_since_epoch()).count());
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

struct RsaSigner::Key {
  std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey;
};

RsaSigner::RsaSigner(std::unique_ptr<Key> key) : key_(std::move(key)) {}
RsaSigner::~RsaSigner() = default;

core::Result<std::shared_ptr<const RsaSigner>> RsaSigner::from_pem(std::string_view pem) {
  std::string text(pem);
  if (text.find('\n') == std::string::npos && text.find("\\n") != std::string::npos) {
    std::string unescaped;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
        unescaped += '\n';
        ++i;
      } else {
        unescaped += text[i];
      }
    }
    text = std::move(unescaped);
  }
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) {
    return core::fatal_error("jwt: cannot allocate a buffer for the private key");
  }
  auto key = std::make_unique<Key>();
  key->pkey.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key->pkey) {
    return core::fatal_error("jwt: the private key is not a readable PEM private key (" +
                             openssl_error() + ")");
  }
  if (EVP_PKEY_get_base_id(key->pkey.get()) != EVP_PKEY_RSA) {
    return core::fatal_error("jwt: the private key must be an RSA key (RS256)");
  }
  return std::shared_ptr<const RsaSigner>(new RsaSigner(std::move(key)));
}

core::Result<std::string> RsaSigner::sign(const JwtClaims& claims) const {
  const std::string signing_input = base64url_encode(R"({"alg":"RS256","typ":"JWT"})") + "." +
                                    base64url_encode(jwt_claims_json(claims));
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_->pkey.get()) != 1) {
    return core::fatal_error("jwt: cannot initialise RS256 signing (" + openssl_error() + ")");
  }
  size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &length, data, signing_input.size()) != 1) {
    return core::fatal_error("jwt: cannot size the signature (" + openssl_error() + ")");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                     signing_input.size()) != 1) {
    return core::fatal_error("jwt: signing failed (" + openssl_error() + ")");
  }
  signature.resize(length);
  return signing_input + "." + base64url_encode(signature);
}

}  // namespace sfkb::salesforce
