#include "daemon/core/url.h"

#include <gtest/gtest.h>

namespace sfkb::core {
namespace {

TEST(Url, ShouldParseSchemeHostPortAndPath) {
  auto url = parse_url("HTTPS://Login.Salesforce.com:8443/services/oauth2/token");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "login.salesforce.com");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->path, "/services/oauth2/token");
  auto v6 = parse_url("http://[::1]:9000");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->port, 9000);
}

TEST(Url, ShouldRejectWhatIsNotAPlainWebUrl) {
  for (const char* text :
       {"", "login.salesforce.com", "ftp://x.example", "https://", "https://:443",
        "https://user@x.example", "http://127.0.0.1@evil.example", "https://x.example:0",
        "https://x.example:65536", "https://x.example:", "https://x.example:8a",
        "https://-x.example", "https://x..example", "https://x.example?q=1", "http://[::1",
        "http://[::1]x", "http://[not-v6]", "https://x example"}) {
    EXPECT_FALSE(parse_url(text)) << text;
  }
}

TEST(Url, ShouldTreatOnlyLoopbackLiteralsAndLocalhostAsLoopback) {
  for (const char* host : {"localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "127.255.255.255",
                           "[::1]", "[0:0:0:0:0:0:0:1]"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
  for (const char* host :
       {"127.attacker.example", "127.0.0.1.nip.io", "127.0.0.1.", "127.1", "0x7f.0.0.1",
        "128.0.0.1", "10.0.0.1", "[::2]", "[::ffff:127.0.0.1]", "localhost.example", "::1"}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
}

// Names that merely start with "127." are not loopback.
TEST(Url, ShouldAllowPlainHttpOnlyForLoopback) {
  for (const char* url : {"https://login.salesforce.com", "https://127.attacker.example",
                          "http://127.0.0.1:8443", "http://localhost:1", "http://[::1]:8443/x"}) {
    EXPECT_EQ(web_url_problem(url), "") << url;
  }
  for (const char* url : {"http://127.attacker.example", "http://127.0.0.1.nip.io:8080",
                          "http://login.salesforce.com", "http://10.0.0.1"}) {
    EXPECT_NE(web_url_problem(url).find("plain http"), std::string::npos) << url;
  }
}

TEST(Url, ShouldAcceptAnHttpInstanceOnlyFromALoopbackLogin) {
  EXPECT_EQ(instance_url_problem("https://na1.my.salesforce.com", "https://login.salesforce.com"),
            "");
  EXPECT_EQ(instance_url_problem("http://127.0.0.1:9", "http://localhost:8443"), "");
  EXPECT_NE(instance_url_problem("http://127.0.0.1:9", "https://login.salesforce.com"), "");
  EXPECT_NE(instance_url_problem("http://127.0.0.1.nip.io", "http://127.0.0.1:8443"), "");
  EXPECT_NE(instance_url_problem("javascript:alert(1)", "https://login.salesforce.com"), "");
  const auto problem = instance_url_problem("http://evil.example/\n", "https://l.example");
  EXPECT_EQ(problem.find('\n'), std::string::npos) << "one line: " << problem;
}

}  // namespace
}  // namespace sfkb::core

namespace sfkb::core {
namespace {

TEST(GrpcEndpoint, ShouldUseTlsUnlessPlainHttpToLoopback) {
  auto bare = parse_grpc_endpoint("api.pubsub.salesforce.com:7443");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->target, "api.pubsub.salesforce.com:7443");
  EXPECT_TRUE(bare->tls);
  auto https = parse_grpc_endpoint("https://Pubsub.Example");
  ASSERT_TRUE(https);
  EXPECT_EQ(https->target, "pubsub.example:443");
  EXPECT_TRUE(https->tls);
  auto local = parse_grpc_endpoint("http://[::1]:7011");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->target, "[::1]:7011");
  EXPECT_FALSE(local->tls);
  for (const char* bad :
       {"http://pubsub.example:7011", "http://127.0.0.1.nip.io:1", "api.pubsub.salesforce.com",
        "https://h.example:7443/path", "ftp://h:1", ""}) {
    EXPECT_FALSE(parse_grpc_endpoint(bad)) << bad;
    EXPECT_NE(grpc_endpoint_problem(bad), "") << bad;
  }
  EXPECT_NE(grpc_endpoint_problem("http://pubsub.example:7011").find("plain http"),
            std::string::npos);
}

}  // namespace
}  // namespace sfkb::core
