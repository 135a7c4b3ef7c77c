#include "daemon/salesforce/token_cache.h"

#include <atomic>
#include <condition_variable>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>

#include "daemon/core/redact.h"
#include "tests/unit/salesforce/fake_transport.h"

namespace sfkb::salesforce {
namespace {

using testing::FakeTransport;
using testing::json_response;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

// A fresh RSA key per test binary: PEMs of the private key and the public key.
struct TestKey {
  std::string private_pem;
  std::string public_pem;
};

const TestKey& test_key() {
  static const TestKey key = [] {
    std::unique_ptr<EVP_PKEY, PkeyFree> pkey(EVP_RSA_gen(2048));
    std::unique_ptr<BIO, BioFree> priv(BIO_new(BIO_s_mem()));
    std::unique_ptr<BIO, BioFree> pub(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(priv.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr);
    PEM_write_bio_PUBKEY(pub.get(), pkey.get());
    char* data = nullptr;
    TestKey out;
    long n = BIO_get_mem_data(priv.get(), &data);
    out.private_pem.assign(data, n);
    n = BIO_get_mem_data(pub.get(), &data);
    out.public_pem.assign(data, n);
    return out;
  }();
  return key;
}

std::string base64url_decode(std::string_view text) {
  std::string standard(text);
  for (auto& c : standard) {
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (standard.size() % 4 != 0) {
    standard += '=';
  }
  std::string out(standard.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(standard.data()),
                                static_cast<int>(standard.size()));
  out.resize(n - std::count(standard.end() - 2, standard.end(), '='));
  return out;
}

bool verify_rs256(const std::string& jwt, const std::string& public_pem) {
  const auto dot = jwt.rfind('.');
  const std::string input = jwt.substr(0, dot);
  const std::string signature = base64url_decode(jwt.substr(dot + 1));
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(public_pem.data(), public_pem.size()));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key.get());
  const int ok = EVP_DigestVerify(
      ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  return ok == 1;
}

// Decodes a form body into a map (the fake server side of the token endpoint).
std::map<std::string, std::string> parse_form(const std::string& body) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= body.size()) {
    const auto end = std::min(body.find('&', start), body.size());
    const std::string pair = body.substr(start, end - start);
    const auto eq = pair.find('=');
    auto decode = [](const std::string& s) {
      std::string r;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
          r += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          r += s[i];
        }
      }
      return r;
    };
    out[decode(pair.substr(0, eq))] = decode(pair.substr(eq + 1));
    start = end + 1;
  }
  return out;
}

http::Response token_reply(const std::string& token,
                           const std::string& instance = "https://na1.example.com") {
  return json_response(200,
                       R"({"access_token":")" + token + R"(","instance_url":")" + instance +
                           R"(","id":"x","token_type":"Bearer","issued_at":"1","signature":"s"})");
}

config::SalesforceConfig client_credentials_config() {
  config::SalesforceConfig config;
  config.login_url = "https://my.example.my.salesforce.com/";
  config.auth.flow = config::AuthFlow::kClientCredentials;
  config.auth.client_id = "consumer-key";
  config.auth.client_secret = "very-secret-value";
  return config;
}

TEST(Base64Url, ShouldEncodeWithoutPaddingWithUrlAlphabet) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(FormEncode, ShouldPercentEncodeReservedCharacters) {
  EXPECT_EQ(form_encode({{"grant_type", "password"}, {"password", "a b&c=d+é"}}),
            "grant_type=password&password=a%20b%26c%3Dd%2B%C3%A9");
}

TEST(Jwt, ShouldSignVerifiableRs256AssertionWithClaims) {
  auto signer = RsaSigner::from_pem(test_key().private_pem);
  ASSERT_TRUE(signer) << signer.error().message;
  const auto expires = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));
  auto jwt =
      signer.value()->sign({"client", "user@example.com", "https://login.salesforce.com", expires});
  ASSERT_TRUE(jwt);
  EXPECT_TRUE(verify_rs256(jwt.value(), test_key().public_pem));
  const auto first = jwt.value().find('.');
  const auto second = jwt.value().find('.', first + 1);
  EXPECT_EQ(base64url_decode(jwt.value().substr(0, first)), R"({"alg":"RS256","typ":"JWT"})");
  EXPECT_EQ(
      base64url_decode(jwt.value().substr(first + 1, second - first - 1)),
      R"({"iss":"client","sub":"user@example.com","aud":"https://login.salesforce.com","exp":1800000000})");
}

TEST(Jwt, ShouldAcceptPemWithEscapedNewlinesFromEnvironment) {
  std::string escaped;
  for (char c : test_key().private_pem) {
    escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  EXPECT_TRUE(RsaSigner::from_pem(escaped));
}

TEST(Jwt, ShouldRejectGarbageKeyWithoutEchoingIt) {
  auto signer = RsaSigner::from_pem("not a key at all");
  ASSERT_FALSE(signer);
  EXPECT_EQ(signer.error().kind, core::ErrorKind::kFatal);
  EXPECT_EQ(signer.error().message.find("not a key"), std::string::npos);
}

TEST(TokenCache, ShouldTakeTheUserIdFromTheIdentityUrl) {
  EXPECT_EQ(user_id_from_identity_url(
                "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SvQrAAK"),
            "005xx000001SvQrAAK");
  EXPECT_EQ(user_id_from_identity_url("https://h/id/00D000000000001/005000000000001?x=1"),
            "005000000000001");
  for (const char* bad :
       {"", "https://h/id/00Dxx0000001gPLEAY", "https://h/id/00Dxx0000001gPLEAY/",
        "https://h/id/00Dxx0000001gPLEAY/001xx000001SvQrAAK",
        "https://h/id/00Dxx0000001gPLEAY/005x", "https://h/id/bad/005xx000001SvQrAAK"}) {
    EXPECT_EQ(user_id_from_identity_url(bad), "") << bad;
  }
}

TEST(TokenCache, ShouldTakeTheOrgIdFromTheIdentityUrl) {
  EXPECT_EQ(org_id_from_identity_url(
                "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SvQrAAK"),
            "00Dxx0000001gPLEAY");
  EXPECT_EQ(org_id_from_identity_url("https://test.salesforce.com/id/00D000000000001/005x"),
            "00D000000000001");
  for (const char* bad : {"", "x", "https://h/id/", "https://h/id/00Dxx0000001gPLEAY",
                          "https://h/id/005xx000001SvQrAAK/00Dxx0000001gPLEAY",
                          "https://h/id/00Dxx00-0001gPLEAY/005"}) {
    EXPECT_EQ(org_id_from_identity_url(bad), "") << bad;
  }
  auto transport = std::make_unique<FakeTransport>();
  transport->push_reply(json_response(
      200,
      R"({"access_token":"t-1","instance_url":"https://na1.example.com","id":"https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SvQrAAK"})"));
  TokenCache cache(client_credentials_config(), std::move(transport));
  auto session = cache.session({});
  ASSERT_TRUE(session) << session.error().message;
  EXPECT_EQ(session->org_id, "00Dxx0000001gPLEAY");
  EXPECT_EQ(session->user_id, "005xx000001SvQrAAK");
}

TEST(TokenCache, ShouldPostJwtBearerAssertionToLoginUrl) {
  auto transport = std::make_unique<FakeTransport>();
  auto* fake = transport.get();
  fake->push_reply(token_reply("jwt-token-000001"));
  config::SalesforceConfig config;
  config.login_url = "https://test.salesforce.com";
  config.auth.flow = config::AuthFlow::kJwtBearer;
  config.auth.client_id = "consumer-key";
  config.auth.username = "integration@example.com";
  config.auth.private_key = test_key().private_pem;
  TokenCache cache(config, std::move(transport));

  auto session = cache.session({});
  ASSERT_TRUE(session) << session.error().message;
  EXPECT_EQ(session->access_token, "jwt-token-000001");
  ASSERT_EQ(fake->requests().size(), 1u);
  const auto requests = fake->requests();
  const auto& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://test.salesforce.com/services/oauth2/token");
  auto form = parse_form(request.body);
  EXPECT_EQ(form["grant_type"], "urn:ietf:params:oauth:grant-type:jwt-bearer");
  ASSERT_TRUE(verify_rs256(form["assertion"], test_key().public_pem));
  const std::string& jwt = form["assertion"];
  const auto first = jwt.find('.');
  rapidjson::Document claims;
  claims.Parse(base64url_decode(jwt.substr(first + 1, jwt.rfind('.') - first - 1)).c_str());
  EXPECT_STREQ(claims["iss"].GetString(), "consumer-key");
  EXPECT_STREQ(claims["sub"].GetString(), "integration@example.com");
  EXPECT_STREQ(claims["aud"].GetString(), "https://test.salesforce.com");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_GT(claims["exp"].GetInt64(), now + 60);
  EXPECT_LE(claims["exp"].GetInt64(), now + 181);
}

TEST(TokenCache, ShouldUseConfiguredAudienceForJwt) {
  auto transport = std::make_unique<FakeTransport>();
  auto* fake = transport.get();
  fake->push_reply(token_reply("jwt-token-000002"));
  config::SalesforceConfig config;
  config.auth.flow = config::AuthFlow::kJwtBearer;
  config.auth.private_key = test_key().private_pem;
  config.auth.audience = "https://acme.my.salesforce.com";
  TokenCache cache(config, std::move(transport));
  ASSERT_TRUE(cache.session({}));
  const std::string jwt = parse_form(fake->requests()[0].body)["assertion"];
  const auto first = jwt.find('.');
  EXPECT_NE(base64url_decode(jwt.substr(first + 1, jwt.rfind('.') - first - 1))
                .find(R"("aud":"https://acme.my.salesforce.com")"),
            std::string::npos);
}

TEST(TokenCache, ShouldFailConstructionWhenKeyFileIsMissing) {
  config::SalesforceConfig config;
  config.auth.flow = config::AuthFlow::kJwtBearer;
  config.auth.private_key_file = "/nonexistent/jwt.key";
  EXPECT_THROW(TokenCache(config, std::make_unique<FakeTransport>()), std::runtime_error);
}

TEST(TokenCache, ShouldSendEachFlowsFormFields) {
  struct Case {
    config::AuthFlow flow;
    std::map<std::string, std::string> expected;
  };
  config::AuthConfig auth;
  auth.client_id = "cid";
  auth.client_secret = "csecret-123";
  auth.username = "u@example.com";
  auth.password = "pw-and-token";
  auth.refresh_token = "refresh-123456";
  const std::vector<Case> cases = {
      {config::AuthFlow::kClientCredentials,
       {{"grant_type", "client_credentials"},
        {"client_id", "cid"},
        {"client_secret", "csecret-123"}}},
      {config::AuthFlow::kRefreshToken,
       {{"grant_type", "refresh_token"},
        {"refresh_token", "refresh-123456"},
        {"client_id", "cid"},
        {"client_secret", "csecret-123"}}},
      {config::AuthFlow::kPassword,
       {{"grant_type", "password"},
        {"client_id", "cid"},
        {"client_secret", "csecret-123"},
        {"username", "u@example.com"},
        {"password", "pw-and-token"}}},
  };
  for (const auto& c : cases) {
    auto transport = std::make_unique<FakeTransport>();
    auto* fake = transport.get();
    fake->push_reply(token_reply("token-for-flow"));
    config::SalesforceConfig config;
    config.auth = auth;
    config.auth.flow = c.flow;
    TokenCache cache(config, std::move(transport));
    ASSERT_TRUE(cache.session({}));
    EXPECT_EQ(parse_form(fake->requests()[0].body), c.expected);
    EXPECT_EQ(fake->requests()[0].headers[0].second, "application/x-www-form-urlencoded");
  }
}

TEST(TokenCache, ShouldCacheSessionAndUseInstanceUrlFromResponse) {
  auto transport = std::make_unique<FakeTransport>();
  auto* fake = transport.get();
  fake->push_reply(token_reply("cached-token-1", "https://na42.example.com/"));
  TokenCache cache(client_credentials_config(), std::move(transport));
  auto first = cache.session({});
  auto second = cache.session({});
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_EQ(fake->requests().size(), 1u);
  EXPECT_EQ(fake->requests()[0].url, "https://my.example.my.salesforce.com/services/oauth2/token");
  EXPECT_EQ(first->instance_url, "https://na42.example.com");
  EXPECT_EQ(first->generation, second->generation);
}

TEST(TokenCache, ShouldRegisterObtainedTokenAsSecret) {
  auto transport = std::make_unique<FakeTransport>();
  transport->push_reply(token_reply("00Dxx-secret-token-abcdef"));
  TokenCache cache(client_credentials_config(), std::move(transport));
  ASSERT_TRUE(cache.session({}));
  EXPECT_EQ(core::redact_text("saw 00Dxx-secret-token-abcdef here").find("abcdef"),
            std::string::npos);
}

TEST(TokenCache, ShouldReportOAuthErrorAsFatalWithDescription) {
  auto transport = std::make_unique<FakeTransport>();
  transport->push_reply(json_response(
      400,
      R"({"error":"invalid_grant","error_description":"user hasn't approved this consumer"})"));
  TokenCache cache(client_credentials_config(), std::move(transport));
  auto session = cache.session({});
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().kind, core::ErrorKind::kFatal);
  EXPECT_NE(session.error().message.find("invalid_grant"), std::string::npos);
  EXPECT_NE(session.error().message.find("user hasn't approved this consumer"), std::string::npos);
}

TEST(TokenCache, ShouldReportServerTroubleAndNetworkErrorsAsRetry) {
  auto transport = std::make_unique<FakeTransport>();
  auto* fake = transport.get();
  fake->push_reply(json_response(503, "<html>down</html>"));
  fake->push_reply(core::retry_error("POST https://x/services/oauth2/token: connection refused"));
  fake->push_reply(token_reply("recovered-token"));
  TokenCache cache(client_credentials_config(), std::move(transport));
  auto first = cache.session({});
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().kind, core::ErrorKind::kRetry);
  auto second = cache.session({});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, core::ErrorKind::kRetry);
  auto third = cache.session({});
  ASSERT_TRUE(third);
  EXPECT_EQ(third->access_token, "recovered-token");
}

TEST(TokenCache, ShouldFetchNewTokenOnRefreshOfCurrentGeneration) {
  auto transport = std::make_unique<FakeTransport>();
  auto* fake = transport.get();
  fake->push_reply(token_reply("first-token-1"));
  fake->push_reply(token_reply("second-token-2"));
  TokenCache cache(client_credentials_config(), std::move(transport));
  auto first = cache.session({});
  ASSERT_TRUE(first);
  auto second = cache.refresh(first.value(), {});
  ASSERT_TRUE(second);
  EXPECT_EQ(second->access_token, "second-token-2");
  EXPECT_GT(second->generation, first->generation);
  // A caller still holding the first session gets the second without another request.
  auto third = cache.refresh(first.value(), {});
  ASSERT_TRUE(third);
  EXPECT_EQ(third->access_token, "second-token-2");
  EXPECT_EQ(fake->requests().size(), 2u);
}

TEST(TokenCache, ShouldKeepAtMostOneRefreshInFlight) {
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> calls{0};
  auto transport = std::make_unique<FakeTransport>([&](const http::Request&) {
    const int n = ++calls;
    if (n == 2) {
      // The refresh: held until every thread has asked, so they overlap.
      std::unique_lock lock(mutex);
      cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
    }
    return core::Result<http::Response>(token_reply("token-number-" + std::to_string(n)));
  });
  TokenCache cache(client_credentials_config(), std::move(transport));
  auto first = cache.session({});
  ASSERT_TRUE(first);

  std::vector<std::thread> threads;
  std::vector<std::string> seen(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto s = cache.refresh(first.value(), {});
      seen[i] = s ? s->access_token : s.error().message;
    });
  }
  // Once the one refresh request is in the transport, let it finish.
  while (calls.load() < 2) {
    std::this_thread::yield();
  }
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(calls.load(), 2);
  for (const auto& token : seen) {
    EXPECT_EQ(token, "token-number-2");
  }
}

TEST(TokenCache, ShouldServeAccessTokenFlowWithoutNetworkAndFailOnRefresh) {
  config::SalesforceConfig config;
  config.auth.flow = config::AuthFlow::kAccessToken;
  config.auth.access_token = "static-token-xyz";
  config.auth.instance_url = "http://127.0.0.1:1234/";
  auto transport = std::make_unique<FakeTransport>();
  auto* fake = transport.get();
  TokenCache cache(config, std::move(transport));
  auto session = cache.session({});
  ASSERT_TRUE(session);
  EXPECT_EQ(session->access_token, "static-token-xyz");
  EXPECT_EQ(session->instance_url, "http://127.0.0.1:1234");
  auto refreshed = cache.refresh(session.value(), {});
  ASSERT_FALSE(refreshed);
  EXPECT_EQ(refreshed.error().kind, core::ErrorKind::kFatal);
  EXPECT_TRUE(fake->requests().empty());
}

TEST(TokenCache, ShouldCountRefreshesInMetrics) {
  ops::Metrics metrics;
  auto transport = std::make_unique<FakeTransport>();
  transport->push_reply(token_reply("counted-token-1"));
  transport->push_reply(
      json_response(400, R"({"error":"invalid_client","error_description":"x"})"));
  TokenCache cache(client_credentials_config(), std::move(transport), metrics);
  auto first = cache.session({});
  ASSERT_TRUE(first);
  ASSERT_FALSE(cache.refresh(first.value(), {}));
  const std::string text = metrics.render();
  EXPECT_NE(text.find("sfkb_token_refreshes_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(sfkb_auth_failures_total{kind="fatal"} 1)"), std::string::npos) << text;
}

}  // namespace
}  // namespace sfkb::salesforce
