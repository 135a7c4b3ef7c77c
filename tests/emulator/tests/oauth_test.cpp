// OAuth token endpoint on the wire: the four grants, their failures, and what the issued token
// unlocks.

#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <memory>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "test_support.h"

namespace sfkb::emulator::test {
namespace {

constexpr const char* kForm = "application/x-www-form-urlencoded";

std::string b64url(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') {
    out.pop_back();
  }
  for (auto& c : out) {
    c = c == '+' ? '-' : (c == '/' ? '_' : c);
  }
  return out;
}

// An RSA key pair for the test; the public half goes to the emulator as --jwt-public-key.
class RsaKey {
 public:
  RsaKey() : key_(EVP_RSA_gen(2048), &EVP_PKEY_free) {}

  std::string write_public_pem(const std::string& path) const {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "w"), &std::fclose);
    PEM_write_PUBKEY(f.get(), key_.get());
    return path;
  }

  std::string sign_jwt(const std::string& claims_json) const {
    std::string signing_input = b64url(R"({"alg":"RS256"})") + "." + b64url(claims_json);
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get());
    std::size_t len = 0;
    EVP_DigestSign(ctx.get(), nullptr, &len,
                   reinterpret_cast<const unsigned char*>(signing_input.data()),
                   signing_input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(signing_input.data()),
                   signing_input.size());
    sig.resize(len);
    return signing_input + "." + b64url(sig);
  }

 private:
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key_;
};

std::string claims(const std::string& iss, const std::string& sub, const std::string& aud,
                   long long exp_offset_s) {
  long long exp = static_cast<long long>(std::time(nullptr)) + exp_offset_s;
  return R"({"iss":")" + iss + R"(","sub":")" + sub + R"(","aud":")" + aud + R"(","exp":)" +
         std::to_string(exp) + "}";
}

class OAuthTest : public ::testing::Test {
 protected:
  static EmulatorProcess::Options options(const std::string& key_path) {
    EmulatorProcess::Options o;
    o.static_token.clear();
    o.extra_args = {"--jwt-public-key", key_path, "--client-id",     "CID",
                    "--client-secret",  "SECRET", "--username",      "user@example.com",
                    "--password",       "pw",     "--refresh-token", "RT"};
    return o;
  }

  OAuthTest() {
    key_.write_public_pem(key_file_.path());
    sf_ = std::make_unique<EmulatorProcess>(options(key_file_.path()));
  }

  httplib::Result token(const std::string& form) {
    auto http = client_for(*sf_);
    return http.Post("/services/oauth2/token", form, kForm);
  }

  void expect_error(const std::string& form, const std::string& error) {
    auto res = token(form);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << form;
    auto doc = parse(res->body);
    EXPECT_EQ(str(doc, "error"), error) << res->body;
    EXPECT_FALSE(str(doc, "error_description").empty());
  }

  RsaKey key_;
  ScopedTempFile key_file_{"sf-emulator-oauth-test-key"};
  std::unique_ptr<EmulatorProcess> sf_;
};

TEST_F(OAuthTest, JwtBearerIssuesAWorkingToken) {
  auto assertion =
      key_.sign_jwt(claims("CID", "user@example.com", "https://login.salesforce.com", 300));
  auto res = token("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" +
                   assertion);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto doc = parse(res->body);
  EXPECT_FALSE(str(doc, "access_token").empty());
  EXPECT_EQ(str(doc, "instance_url"), sf_->base_url());
  EXPECT_EQ(str(doc, "token_type"), "Bearer");
  EXPECT_FALSE(str(doc, "id").empty());
  EXPECT_FALSE(str(doc, "issued_at").empty());
  EXPECT_FALSE(str(doc, "signature").empty());
  EXPECT_EQ(str(doc, "scope"), "api");

  Bayeux bayeux(*sf_, str(doc, "access_token"));
  EXPECT_TRUE(bayeux.handshake()[0]["successful"].GetBool());
}

TEST_F(OAuthTest, JwtAudienceMayBeTestOrTheEmulatorItself) {
  for (const std::string& aud : {std::string("https://test.salesforce.com"), sf_->base_url()}) {
    auto res = token("grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=" +
                     key_.sign_jwt(claims("CID", "user@example.com", aud, 300)));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << aud << ": " << res->body;
  }
}

TEST_F(OAuthTest, JwtFailuresAreRejected) {
  const std::string grant = "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=";
  const std::string login = "https://login.salesforce.com";
  expect_error(grant + key_.sign_jwt(claims("CID", "user@example.com", login, -10)),
               "invalid_grant");  // expired
  expect_error(grant + key_.sign_jwt(claims("CID", "user@example.com", "https://evil", 300)),
               "invalid_grant");  // audience
  expect_error(grant + key_.sign_jwt(claims("CID", "someone@else", login, 300)), "invalid_grant");
  expect_error(grant + key_.sign_jwt(claims("OTHER", "user@example.com", login, 300)),
               "invalid_client_id");
  RsaKey stranger;
  expect_error(grant + stranger.sign_jwt(claims("CID", "user@example.com", login, 300)),
               "invalid_grant");  // signed by another key
  expect_error(grant + "not.a.jwt", "invalid_grant");
}

TEST_F(OAuthTest, ClientCredentials) {
  auto res = token("grant_type=client_credentials&client_id=CID&client_secret=SECRET");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  expect_error("grant_type=client_credentials&client_id=CID&client_secret=WRONG", "invalid_client");
}

TEST_F(OAuthTest, RefreshToken) {
  auto res = token("grant_type=refresh_token&refresh_token=RT&client_id=CID&client_secret=SECRET");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  expect_error("grant_type=refresh_token&refresh_token=NOPE&client_id=CID", "invalid_grant");
}

TEST_F(OAuthTest, Password) {
  auto res = token(
      "grant_type=password&client_id=CID&client_secret=SECRET&username=user%40example.com"
      "&password=pw");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  expect_error(
      "grant_type=password&client_id=CID&client_secret=SECRET&username=user%40example.com"
      "&password=bad",
      "invalid_grant");
}

TEST_F(OAuthTest, UnknownGrantType) {
  expect_error("grant_type=magic", "unsupported_grant_type");
}

TEST_F(OAuthTest, ExpireTokensInvalidatesIssuedTokensUntilANewOneIsFetched) {
  auto first =
      parse(token("grant_type=client_credentials&client_id=CID&client_secret=SECRET")->body);
  sf_->faults(R"({"expire_tokens":true})");
  Bayeux stale(*sf_, str(first, "access_token"));
  EXPECT_EQ(str(stale.handshake()[0], "error"), "403::Handshake denied");
  auto second =
      parse(token("grant_type=client_credentials&client_id=CID&client_secret=SECRET")->body);
  Bayeux fresh(*sf_, str(second, "access_token"));
  EXPECT_TRUE(fresh.handshake()[0]["successful"].GetBool());
}

TEST_F(OAuthTest, IdentityUrlCarriesAStableOrgIdThatRefreshOrgReplaces) {
  const std::string form = "grant_type=client_credentials&client_id=CID&client_secret=SECRET";
  auto first = parse(token(form)->body);
  auto again = parse(token(form)->body);
  EXPECT_EQ(str(first, "id"), sf_->base_url() + "/id/00Dxx0000001gPLEAY/005xx000001SvQrAAK");
  EXPECT_EQ(str(again, "id"), str(first, "id"));

  // A channel with history, subscribed at its newest replay ID.
  auto range = sf_->inject("/event/Test_Event__e", 20, R"({"N":1})");
  Bayeux old_session(*sf_, str(first, "access_token"));
  ASSERT_TRUE(old_session.handshake()[0]["successful"].GetBool());

  sf_->faults(R"({"refresh_org":true})");
  // Tokens of the old org are expired, and the org ID in the identity URL is new.
  Bayeux stale(*sf_, str(first, "access_token"));
  EXPECT_EQ(str(stale.handshake()[0], "error"), "403::Handshake denied");
  auto fresh = parse(token(form)->body);
  EXPECT_EQ(str(fresh, "id"), sf_->base_url() + "/id/00Dxx0000001REFRSH/005xx000001SvQrAAK");
  auto stats = parse(sf_->stats());
  EXPECT_EQ(str(stats, "org_id"), "00Dxx0000001REFRSH");
  EXPECT_EQ(stats["sessions"].GetInt(), 0);

  // Replay IDs restart low: the old newest is refused as newer than anything the org has.
  Bayeux bayeux(*sf_, str(fresh, "access_token"));
  ASSERT_TRUE(bayeux.handshake()[0]["successful"].GetBool());
  auto refused = bayeux.subscribe("/event/Test_Event__e", range.last_replay_id);
  EXPECT_FALSE(refused[0]["successful"].GetBool());
  EXPECT_NE(str(refused[0], "error").find("you provided was invalid"), std::string::npos);
  auto restarted = sf_->inject("/event/Test_Event__e", 1, R"({"N":2})");
  EXPECT_LE(restarted.first_replay_id, 5);
}

TEST(OAuthStaticTokenTest, StaticTokenSurvivesExpireTokens) {
  EmulatorProcess sf;
  sf.faults(R"({"expire_tokens":true})");
  Bayeux bayeux(sf, sf.static_token());
  EXPECT_TRUE(bayeux.handshake()[0]["successful"].GetBool());
}

}  // namespace
}  // namespace sfkb::emulator::test
