// The instance_url an OAuth token endpoint returns receives the access token with every request:
// it must be https:// (plain http only for a loopback instance of a loopback login_url, i.e. the
// emulator), and anything else is a fatal authentication error, not a retry loop.

#include <gtest/gtest.h>

#include "daemon/salesforce/token_cache.h"
#include "tests/unit/salesforce/fake_transport.h"

namespace sfkb::salesforce {
namespace {

using testing::FakeTransport;
using testing::json_response;

http::Response reply_with_instance(const std::string& instance) {
  return json_response(200, R"({"access_token":"instance-check-token","instance_url":")" +
                                instance + R"(","token_type":"Bearer"})");
}

config::SalesforceConfig config_for(const std::string& login_url) {
  config::SalesforceConfig config;
  config.login_url = login_url;
  config.auth.flow = config::AuthFlow::kClientCredentials;
  config.auth.client_id = "consumer-key";
  config.auth.client_secret = "instance-check-secret";
  return config;
}

core::Result<Session> session_for(const std::string& login_url, const std::string& instance,
                                  std::size_t* requests = nullptr) {
  auto transport = std::make_unique<FakeTransport>();
  auto* fake = transport.get();
  // Two identical replies: a second call must not get a different verdict by retrying.
  fake->push_reply(reply_with_instance(instance));
  fake->push_reply(reply_with_instance(instance));
  TokenCache cache(config_for(login_url), std::move(transport));
  auto session = cache.session({});
  if (requests != nullptr) {
    *requests = fake->requests().size();
  }
  return session;
}

TEST(TokenCacheInstanceUrl, ShouldRefusePlainHttpFromAnHttpsLogin) {
  for (const std::string instance :
       {"http://na1.example.com", "http://127.0.0.1:8080", "http://127.0.0.1.nip.io:8080",
        "ftp://na1.example.com", "na1.example.com", "https://user@evil.example"}) {
    std::size_t requests = 0;
    auto session = session_for("https://login.salesforce.com", instance, &requests);
    ASSERT_FALSE(session) << instance;
    EXPECT_EQ(session.error().kind, core::ErrorKind::kFatal) << instance;
    EXPECT_NE(session.error().message.find("instance_url"), std::string::npos)
        << session.error().message;
    EXPECT_EQ(requests, 1u) << "one request, no retry loop";
  }
}

TEST(TokenCacheInstanceUrl, ShouldRefuseANonLoopbackHttpInstanceFromTheEmulator) {
  for (const std::string instance :
       {"http://127.0.0.1.nip.io:8080", "http://127.attacker.example", "http://10.0.0.1:8080"}) {
    auto session = session_for("http://127.0.0.1:8443", instance);
    ASSERT_FALSE(session) << instance;
    EXPECT_EQ(session.error().kind, core::ErrorKind::kFatal) << instance;
  }
}

TEST(TokenCacheInstanceUrl, ShouldAcceptHttpsAndTheLoopbackEmulator) {
  auto https = session_for("https://login.salesforce.com", "https://na42.my.salesforce.com");
  ASSERT_TRUE(https) << https.error().message;
  EXPECT_EQ(https->instance_url, "https://na42.my.salesforce.com");
  for (const std::string instance :
       {"http://127.0.0.1:8443", "http://localhost:9000", "http://[::1]:8443"}) {
    auto local = session_for("http://127.0.0.1:8443", instance);
    ASSERT_TRUE(local) << instance << ": " << local.error().message;
    EXPECT_EQ(local->instance_url, instance);
  }
}

}  // namespace
}  // namespace sfkb::salesforce
