#include "daemon/ops/health_server.h"
#include "daemon/core/build_info.h"

#include <httplib.h>

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <atomic>
#include <chrono>
#include <vector>

namespace sfkb::ops {
namespace {

TEST(ResolveListen, PortEnvironmentWinsAndBindsEveryInterface) {
  auto r = resolve_listen("127.0.0.1:8080", "5000");
  ASSERT_TRUE(r.is_ok());
  ASSERT_TRUE(r.value().has_value());
  EXPECT_EQ(r.value()->host, "0.0.0.0");
  EXPECT_EQ(r.value()->port, 5000);
}

TEST(ResolveListen, EmptyListenWithoutPortIsOff) {
  auto r = resolve_listen("", nullptr);
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r.value().has_value());
  auto empty_env = resolve_listen("", "");
  ASSERT_TRUE(empty_env.is_ok());
  EXPECT_FALSE(empty_env.value().has_value());
}

TEST(ResolveListen, ParsesHostPortBracketedV6AndBarePort) {
  auto v4 = resolve_listen("127.0.0.1:0", nullptr);
  ASSERT_TRUE(v4.is_ok());
  EXPECT_EQ(v4.value()->host, "127.0.0.1");
  EXPECT_EQ(v4.value()->port, 0);
  auto v6 = resolve_listen("[::1]:9100", nullptr);
  ASSERT_TRUE(v6.is_ok());
  EXPECT_EQ(v6.value()->host, "::1");
  EXPECT_EQ(v6.value()->port, 9100);
  auto any = resolve_listen(":9100", nullptr);
  ASSERT_TRUE(any.is_ok());
  EXPECT_EQ(any.value()->host, "0.0.0.0");
}

TEST(ResolveListen, RejectsGarbageNamingTheValue) {
  auto no_port = resolve_listen("localhost", nullptr);
  ASSERT_FALSE(no_port.is_ok());
  EXPECT_NE(no_port.error().message.find("'localhost'"), std::string::npos);
  EXPECT_FALSE(resolve_listen("127.0.0.1:http", nullptr).is_ok());
  EXPECT_FALSE(resolve_listen("127.0.0.1:70000", nullptr).is_ok());
  auto bad_env = resolve_listen("", "abc");
  ASSERT_FALSE(bad_env.is_ok());
  EXPECT_NE(bad_env.error().message.find("$PORT"), std::string::npos);
}

TEST(ReadinessBody, ListsTheReasonOfEveryPipelineThatIsNotReady) {
  auto [ready, body] = readiness_body(
      {{"subscribe", true, ""}, {"publish", false, "consumer has no \"partitions\""}});
  EXPECT_FALSE(ready);
  EXPECT_EQ(body,
            "{\"status\":\"not ready\",\"pipelines\":{\"subscribe\":\"ready\",\"publish\":\"not "
            "ready\"},\"reasons\":{\"publish\":\"consumer has no \\\"partitions\\\"\"}}\n");
  auto [all, ok_body] = readiness_body({{"subscribe", true, ""}});
  EXPECT_TRUE(all);
  EXPECT_EQ(ok_body, "{\"status\":\"ready\",\"pipelines\":{\"subscribe\":\"ready\"}}\n");
}

TEST(ReadinessBody, ShowsTheNoteOfAReadyPipeline) {
  auto [ready, body] =
      readiness_body({{"subscribe", true, "owns no channel"}, {"publish[0]", true, ""}});
  EXPECT_TRUE(ready);
  EXPECT_EQ(body,
            "{\"status\":\"ready\",\"pipelines\":{\"subscribe\":\"ready\",\"publish[0]\":"
            "\"ready\"},\"notes\":{\"subscribe\":\"owns no channel\"}}\n");
}

class HealthServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    register_build_info(metrics_);
    metrics_.counter("sfkb_events_received_total", "Events received", {{"channel", "/event/A__e"}})
        .inc(2);
    ASSERT_TRUE(server_.start({"127.0.0.1", 0}).is_ok());
    ASSERT_GT(server_.port(), 0);
  }

  httplib::Client client() { return httplib::Client("127.0.0.1", server_.port()); }

  Metrics metrics_;
  std::atomic<bool> subscribe_ready_{false};
  HealthServer server_{metrics_, [this] {
                         return std::vector<ReadinessState>{{"subscribe", subscribe_ready_.load(),
                                                             "CometD session not established"}};
                       }};
};

TEST_F(HealthServerTest, HealthzAnswersWhileNotReady) {
  auto res = client().Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HealthServerTest, ReadyzIs503WithReasonUntilEveryPipelineIsReady) {
  auto before = client().Get("/readyz");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 503);
  EXPECT_NE(before->body.find("CometD session not established"), std::string::npos) << before->body;
  EXPECT_EQ(before->get_header_value("Content-Type"), "application/json");

  subscribe_ready_ = true;
  auto after = client().Get("/readyz");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST_F(HealthServerTest, MetricsServesPrometheusTextWithBuildInfo) {
  auto res = client().Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(res->body.find(std::string("sfkb_build_info{version=\"" SFKB_VERSION "\",commit=\"") +
                           core::git_commit() + "\"} 1\n"),
            std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find("sfkb_events_received_total{channel=\"/event/A__e\"} 2\n"),
            std::string::npos);
}

TEST_F(HealthServerTest, UnknownPathIs404) {
  auto res = client().Get("/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST(HealthServer, PortInUseIsAnErrorNotACrash) {
  Metrics metrics;
  HealthServer first(metrics, [] { return std::vector<ReadinessState>{}; });
  ASSERT_TRUE(first.start({"127.0.0.1", 0}).is_ok());
  HealthServer second(metrics, [] { return std::vector<ReadinessState>{}; });
  auto status = second.start({"127.0.0.1", first.port()});
  EXPECT_FALSE(status.is_ok());
}

TEST(HealthServer, StopsRightAfterStart) {
  Metrics metrics;
  for (int i = 0; i < 20; ++i) {
    HealthServer server(metrics, [] { return std::vector<ReadinessState>{}; });
    ASSERT_TRUE(server.start({"127.0.0.1", 0}).is_ok());
  }  // the destructor must not hang
}

// A TCP connection to the server that sends what it is told and otherwise sits there.
class RawClient {
 public:
  explicit RawClient(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() { close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  bool connected() const { return connected_; }
  void send_text(const std::string& text) {
    [[maybe_unused]] auto n = ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
  }

 private:
  int fd_;
  bool connected_ = false;
};

// The check an orchestrator makes: a fresh connection, GET, an answer within one second.
void expect_healthz_within_a_second(int port, const char* when) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(1));
  client.set_read_timeout(std::chrono::seconds(1));
  client.set_write_timeout(std::chrono::seconds(1));
  const auto started = std::chrono::steady_clock::now();
  auto res = client.Get("/healthz");
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(res) << when << ": " << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200) << when;
  EXPECT_LT(took, std::chrono::seconds(1)) << when;
}

TEST(HealthServer, AnswersWithinASecondWhileIdleAndSlowClientsHoldConnections) {
  // Given a server, 50 connections that never send a byte and 20 that trickle a request head
  // one header line at a time (each line would reset a per-read timeout)
  Metrics metrics;
  HealthServer server(metrics, [] { return std::vector<ReadinessState>{}; });
  ASSERT_TRUE(server.start({"127.0.0.1", 0}).is_ok());
  std::vector<std::unique_ptr<RawClient>> idle;
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 50; ++i) {
    idle.push_back(std::make_unique<RawClient>(server.port()));
    ASSERT_TRUE(idle.back()->connected());
  }
  for (int i = 0; i < 20; ++i) {
    slow.push_back(std::make_unique<RawClient>(server.port()));
    ASSERT_TRUE(slow.back()->connected());
    slow.back()->send_text("GET /metrics HTTP/1.1\r\nHost: x\r\n");
  }

  // Then the health check (and the other endpoints) still answer promptly, again and again
  // while the slow clients keep sending lines
  for (int round = 0; round < 3; ++round) {
    expect_healthz_within_a_second(server.port(), "with idle and slow clients connected");
    for (auto& client : slow) {
      client->send_text("X-Slow-" + std::to_string(round) + ": 1\r\n");
    }
  }
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(std::chrono::seconds(1));
  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
}

TEST(HealthServer, ClosesAConnectionThatDoesNotCompleteItsRequestInTime) {
  Metrics metrics;
  PollHttpServerOptions options;
  options.request_timeout = std::chrono::milliseconds(200);
  HealthServer server(
      metrics, [] { return std::vector<ReadinessState>{}; }, options);
  ASSERT_TRUE(server.start({"127.0.0.1", 0}).is_ok());
  // Reading blocks until the server closes the connection (EOF, no reply); SO_RCVTIMEO bounds
  // the wait should it never do so.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const std::string partial = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(partial.size()));
  const auto started = std::chrono::steady_clock::now();
  char buffer[64];
  const auto n = recv(fd, buffer, sizeof(buffer), 0);
  const auto took = std::chrono::steady_clock::now() - started;
  close(fd);
  EXPECT_EQ(n, 0) << "expected the server to close the connection";
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST(HealthServer, ShedsTheOldestIdleConnectionBeyondTheBound) {
  Metrics metrics;
  PollHttpServerOptions options;
  options.max_connections = 4;
  HealthServer server(
      metrics, [] { return std::vector<ReadinessState>{}; }, options);
  ASSERT_TRUE(server.start({"127.0.0.1", 0}).is_ok());
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 10; ++i) {
    idle.push_back(std::make_unique<RawClient>(server.port()));
    ASSERT_TRUE(idle.back()->connected());
  }
  expect_healthz_within_a_second(server.port(), "with 10 idle connections and a bound of 4");
}

TEST(HealthServer, HeadAndOtherMethods) {
  Metrics metrics;
  HealthServer server(metrics, [] { return std::vector<ReadinessState>{}; });
  ASSERT_TRUE(server.start({"127.0.0.1", 0}).is_ok());
  httplib::Client client("127.0.0.1", server.port());
  auto head = client.Head("/healthz");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  auto post = client.Post("/healthz", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  auto query = client.Get("/healthz?verbose=1");
  ASSERT_TRUE(query);
  EXPECT_EQ(query->status, 200);
  EXPECT_EQ(query->body, "ok\n");
}

}  // namespace
}  // namespace sfkb::ops
