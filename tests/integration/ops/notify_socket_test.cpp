// The daemon as systemd and an operator see it: READY=1 / WATCHDOG=1 / STOPPING=1 on a
// NOTIFY_SOCKET the test owns, the HTTP endpoints, the exit codes. Runs the real binary against
// the emulator with `kafka.embedded: true`, so it needs no broker.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <httplib.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "emulator/emulator_process.h"
#include "tests/integration/support/bridge_process.h"
#include "tests/integration/support/process.h"
#include "tests/integration/support/temp_dir.h"
#include "tests/support/wait.h"

namespace sfkb::it::ops {
namespace {

using namespace std::chrono_literals;
using emulator::testing::EmulatorProcess;

// The test's end of systemd's notification protocol: a unix datagram socket, one message per
// datagram, read with a deadline.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      throw std::runtime_error("socket(AF_UNIX) failed");
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(addr.sun_path)) {
      throw std::runtime_error("notify socket path too long: " + path_);
    }
    std::copy(path_.begin(), path_.end(), addr.sun_path);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("bind " + path_ + " failed");
    }
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

  // Reads datagrams until one contains the line `line` (e.g. "READY=1"), or the deadline.
  bool wait_for(const std::string& line, std::chrono::milliseconds timeout) {
    if (seen(line)) {
      return true;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return false;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        continue;
      }
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        messages_.emplace_back(buf, static_cast<std::size_t>(n));
        if (contains_line(messages_.back(), line)) {
          return true;
        }
      }
    }
  }
  bool seen(const std::string& line) const {
    for (const auto& m : messages_) {
      if (contains_line(m, line)) {
        return true;
      }
    }
    return false;
  }
  std::string all() const {
    std::string out;
    for (const auto& m : messages_) {
      out += "[" + m + "] ";
    }
    return out;
  }

 private:
  static bool contains_line(const std::string& message, const std::string& line) {
    std::size_t start = 0;
    while (start <= message.size()) {
      auto end = message.find('\n', start);
      if (end == std::string::npos) {
        end = message.size();
      }
      if (message.compare(start, end - start, line) == 0 ||
          (line.back() == '=' && message.compare(start, line.size(), line) == 0)) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }

  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

constexpr const char* kEvents =
    "events:\n"
    "  Ops_Order__e:\n"
    "    Order_Number__c: string\n"
    "  Ops_Order_Copy__e:\n"
    "    Order_Number__c: string\n"
    "    Source_Created_Date__c: datetime\n"
    "    Source_Created_By__c: string\n";

std::string bridge_config(const std::string& salesforce_url, const std::string& token,
                          const std::string& state_dir) {
  return "salesforce:\n"
         "  login_url: " +
         salesforce_url +
         "\n"
         "  auth:\n"
         "    flow: access_token\n"
         "    access_token: " +
         token +
         "\n"
         "    instance_url: " +
         salesforce_url +
         "\n"
         "  retry: {initial_backoff: 100ms, max_backoff: 1s}\n"
         "kafka:\n"
         "  embedded: true\n"
         "checkpoint:\n"
         "  directory: " +
         state_dir +
         "\n"
         "subscribe:\n"
         "  - channel: /event/Ops_Order__e\n"
         "    topic: ops.orders\n"
         "    start: earliest\n"
         "publish:\n"
         "  - topics: [ops.orders]\n"
         "    event: Ops_Order_Copy__e\n"
         "    rename: {CreatedDate: Source_Created_Date__c, CreatedById: Source_Created_By__c}\n"
         "    dead_letter_topic: ops.orders.dlq\n"
         "    group_id: ops-test\n"
         "    linger_ms: 20\n"
         "http:\n"
         "  listen: 127.0.0.1:0\n"
         "shutdown:\n"
         "  timeout: 10s\n";
}

class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SFKB_REQUIRE_BRIDGE();
    EmulatorProcess::Options options;
    options.events_yaml = kEvents;
    emulator_ = std::make_unique<EmulatorProcess>(options);
    notify_ = std::make_unique<NotifySocket>(dir_.file("notify.sock"));
  }

  // Readiness shows on the notify socket here, not in the log: these tests never wait_ready().
  std::unique_ptr<Bridge> start_bridge(const std::string& token) {
    BridgeLaunch launch;
    launch.yaml = bridge_config(emulator_->base_url(), token, dir_.file("state"));
    // 200 ms: the daemon pings every 100 ms, so a few pings arrive within any test deadline.
    launch.env = {{"NOTIFY_SOCKET", notify_->path()}, {"WATCHDOG_USEC", "200000"}};
    launch.unset_env = {"WATCHDOG_PID"};
    return std::make_unique<Bridge>(launch, dir_);
  }

  // The port from the daemon's "http listening on 127.0.0.1:PORT" line.
  static std::optional<int> http_port(Process& bridge) {
    auto line = bridge.wait_for_output("http listening on 127.0.0.1:", 30s);
    if (!line) {
      return std::nullopt;
    }
    std::smatch m;
    if (!std::regex_search(*line, m, std::regex("http listening on 127\\.0\\.0\\.1:([0-9]+)"))) {
      return std::nullopt;
    }
    return std::stoi(m[1]);
  }

  TempDir dir_{"sfkb-ops"};
  std::unique_ptr<EmulatorProcess> emulator_;
  std::unique_ptr<NotifySocket> notify_;
};

TEST_F(OpsTest, SendsReadyThenWatchdogPingsAndStoppingOnSigterm) {
  auto bridge = start_bridge(emulator_->static_token());

  ASSERT_TRUE(notify_->wait_for("READY=1", 60s)) << notify_->all() << "\n" << bridge->output();
  EXPECT_TRUE(notify_->seen("STATUS=")) << notify_->all();
  ASSERT_TRUE(notify_->wait_for("WATCHDOG=1", 10s)) << notify_->all();

  ASSERT_TRUE(bridge->process().signal(SIGTERM));
  EXPECT_TRUE(notify_->wait_for("STOPPING=1", 10s)) << notify_->all();
  EXPECT_EQ(bridge->process().wait_for_exit(20s), 0) << bridge->output();
}

TEST_F(OpsTest, ServesHealthReadinessAndMetricsWhileEventsFlowBothWays) {
  auto bridge = start_bridge(emulator_->static_token());
  const auto port = http_port(bridge->process());
  ASSERT_TRUE(port) << bridge->output();
  httplib::Client client("127.0.0.1", *port);

  auto healthz = client.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);

  ASSERT_TRUE(notify_->wait_for("READY=1", 60s)) << bridge->output();
  auto readyz = client.Get("/readyz");
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->status, 200) << readyz->body;

  emulator_->inject("/event/Ops_Order__e", 5, R"({"Order_Number__c":"ORD-{n}"})");
  const auto copies = emulator_->wait_for_published("Ops_Order_Copy__e", 5, 30s);
  EXPECT_GE(copies.count, 5u) << bridge->output();

  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(metrics->body.find("sfkb_build_info{version="), std::string::npos) << metrics->body;
  // The channel's events show up per channel (whatever counter names the pipeline chose).
  EXPECT_NE(metrics->body.find("channel=\"/event/Ops_Order__e\""), std::string::npos)
      << metrics->body;

  ASSERT_TRUE(bridge->process().signal(SIGTERM));
  EXPECT_EQ(bridge->process().wait_for_exit(20s), 0) << bridge->output();
}

TEST_F(OpsTest, ARejectedTokenStopsTheProcessNonZeroWithoutReady) {
  auto bridge = start_bridge("not-the-emulators-token");
  const auto code = bridge->process().wait_for_exit(60s);
  ASSERT_TRUE(code.has_value()) << "still running:\n" << bridge->output();
  // 70: a pipeline failed fatally (a static token cannot be refreshed) - not 78, which would
  // mean the test's configuration was wrong rather than the credentials.
  EXPECT_EQ(*code, 70) << bridge->output();
  // The datagrams are queued in the socket already; reading up to STOPPING=1 collects them all.
  EXPECT_TRUE(notify_->wait_for("STOPPING=1", 5s)) << notify_->all();
  EXPECT_FALSE(notify_->seen("READY=1")) << notify_->all();
}

}  // namespace
}  // namespace sfkb::it::ops
