// The process and the admin API: start-up line, clean exit on SIGTERM, start-up errors, inject
// templating, published log, faults validation, stats and reset.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include <future>

#include "test_support.h"

namespace sfkb::emulator::test {
namespace {

TEST(EmulatorProcessTest, PrintsListeningLineAndExitsZeroOnSigterm) {
  EmulatorProcess sf;
  EXPECT_EQ(sf.base_url().rfind("http://127.0.0.1:", 0), 0u);
  EXPECT_GT(sf.port(), 0);
  auto http = client_for(sf);
  auto res = http.Get("/_emulator/stats");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  auto started = std::chrono::steady_clock::now();
  int status = sf.stop(std::chrono::milliseconds(10000));
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(EmulatorProcessTest, SigtermEndsAWaitingLongPoll) {
  EmulatorProcess sf(with_args({"--connect-timeout-ms", "60000"}));
  Bayeux bayeux(sf, sf.static_token());
  bayeux.handshake();
  bayeux.subscribe("/event/Test_Event__e", -1);
  bayeux.connect();  // answered at once: the first after the handshake
  auto poll = std::async(std::launch::async, [&] { return bayeux.connect_raw(); });
  ASSERT_EQ(poll.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  int status = sf.stop(std::chrono::milliseconds(10000));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(poll.wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

TEST(EmulatorProcessTest, StopsWhenItsStdinCloses) {
  // What happens when the test process dies: the pipe's write end closes with it.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ScopedTempFile events_file("sf-emulator-stdin-eof-events");
  const std::string& events = events_file.path();
  {
    std::ofstream out(events);
    out << "events:\n  A__e:\n    F__c: string\n";
  }
  // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
  const std::string bin = EmulatorProcess::default_binary();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(fds[0], STDIN_FILENO);
    ::close(fds[1]);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    ::execl(bin.c_str(), bin.c_str(), "--events", events.c_str(), "--exit-on-stdin-eof",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  ::close(fds[1]);
  int status = 0;
  pid_t done = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL() << "sf-emulator kept running after its stdin closed";
  }
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(EmulatorProcessTest, BadEventsFileFailsToStart) {
  EmulatorProcess::Options o;
  o.events_yaml = "events:\n  Bad__e:\n    Field__c: blob\n";
  EXPECT_THROW(EmulatorProcess{o}, std::runtime_error);
}

class AdminTest : public ::testing::Test {
 protected:
  EmulatorProcess sf_;
  httplib::Client http_ = client_for(sf_);
};

TEST_F(AdminTest, InjectReturnsReplayIdRangeAndTemplatesFields) {
  auto a = sf_.inject("/event/Test_Event__e", 3, R"({"Text__c":"s{seq}-n{n}"})");
  auto b = sf_.inject("/event/Test_Event__e", 2, R"({"Text__c":"s{seq}-n{n}"})");
  EXPECT_LT(a.first_replay_id, a.last_replay_id);
  EXPECT_GT(b.first_replay_id, a.last_replay_id);

  Bayeux bayeux(sf_, sf_.static_token());
  bayeux.handshake();
  bayeux.subscribe("/event/Test_Event__e", -2);
  std::vector<std::string> texts;
  for (const auto* e : events_of(bayeux.connect())) {
    texts.push_back(str((*e)["data"]["payload"], "Text__c"));
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"s0-n0", "s1-n1", "s2-n2", "s0-n3", "s1-n4"}));
}

TEST_F(AdminTest, LargeInjectArrivesCompleteAndInOrder) {
  auto ids = sf_.inject("/event/Test_Event__e", 25'000, R"({"Text__c":"{seq}"})");
  Bayeux bayeux(sf_, sf_.static_token());
  bayeux.handshake();
  bayeux.subscribe("/event/Test_Event__e", -2);
  std::vector<long long> replay_ids;
  std::size_t in_order = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (replay_ids.size() < 25'000 && std::chrono::steady_clock::now() < deadline) {
    auto reply = bayeux.connect();
    for (const auto* e : events_of(reply)) {
      in_order += str((*e)["data"]["payload"], "Text__c") == std::to_string(replay_ids.size());
      replay_ids.push_back((*e)["data"]["event"]["replayId"].GetInt64());
    }
  }
  ASSERT_EQ(replay_ids.size(), 25'000u);
  EXPECT_EQ(in_order, 25'000u);
  EXPECT_EQ(replay_ids.front(), ids.first_replay_id);
  EXPECT_EQ(replay_ids.back(), ids.last_replay_id);
}

TEST_F(AdminTest, InjectOnAnyChannelIncludingDataChannels) {
  auto ids = sf_.inject("/data/AccountChangeEvent", 1,
                        R"({"ChangeEventHeader":{"entityName":"Account"}})");
  EXPECT_GT(ids.first_replay_id, 0);
  Bayeux bayeux(sf_, sf_.static_token());
  bayeux.handshake();
  ASSERT_TRUE(bayeux.subscribe("/data/AccountChangeEvent", -2)[0]["successful"].GetBool());
  auto events = events_of(bayeux.connect());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(str((*events[0])["data"]["payload"]["ChangeEventHeader"], "entityName"), "Account");
}

TEST_F(AdminTest, InjectRejectsBadRequests) {
  for (const char* body : {R"({"count":1})", R"({"channel":"/event/X__e","count":0})",
                           R"({"channel":"/event/X__e","payload":[]})", "nope"}) {
    auto res = http_.Post("/_emulator/inject", body, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body;
  }
}

TEST_F(AdminTest, PublishedRequiresEventParameter) {
  auto res = http_.Get("/_emulator/published");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(sf_.published("Never_Published__e").count, 0u);
}

TEST_F(AdminTest, FaultsRejectUnknownKeysAndListValidOnes) {
  auto res = http_.Post("/_emulator/faults", R"({"explode":true})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("expire_tokens"), std::string::npos);
  res = http_.Post("/_emulator/faults", R"({"latency_ms":"slow"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST_F(AdminTest, StatsCountRequestsSessionsAndDeliveries) {
  Bayeux bayeux(sf_, sf_.static_token());
  bayeux.handshake();
  bayeux.subscribe("/event/Test_Event__e", -1);
  sf_.inject("/event/Test_Event__e", 4);
  EXPECT_EQ(events_of(bayeux.connect()).size(), 4u);
  auto stats = parse(sf_.stats());
  EXPECT_EQ(stats["sessions"].GetInt(), 1);
  EXPECT_EQ(stats["events_delivered"].GetInt(), 4);
  EXPECT_EQ(stats["events_injected"].GetInt(), 4);
  EXPECT_EQ(stats["connects_in_flight"].GetInt(), 0);
  EXPECT_EQ(stats["requests"]["POST /cometd"]["200"].GetInt(), 3);
  EXPECT_EQ(stats["bayeux"]["/meta/connect"].GetInt(), 1);
  EXPECT_EQ(sf_.stat("sessions_created"), 1);
  EXPECT_THROW(sf_.stat("no_such_stat"), testing::AdminError);
}

TEST_F(AdminTest, ResetForgetsEventsSessionsFaultsAndPublished) {
  Bayeux bayeux(sf_, sf_.static_token());
  bayeux.handshake();
  sf_.inject("/event/Test_Event__e", 2);
  sf_.faults(R"({"busy_next_connects":5})");
  sf_.reset();
  auto stats = parse(sf_.stats());
  EXPECT_EQ(stats["sessions"].GetInt(), 0);
  EXPECT_EQ(stats["faults"]["busy_next_connects"].GetInt(), 0);
  EXPECT_EQ(stats["channels"].Size(), 0u);
  EXPECT_EQ(str(bayeux.connect()[0], "error"), "403::Unknown client");
}

}  // namespace
}  // namespace sfkb::emulator::test
