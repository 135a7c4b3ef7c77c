// Runs the real sf-kafka-bridge executable and checks what an operator sees: exit codes, help,
// problems on stderr, the effective configuration on stdout with secrets hidden.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// The binary as a child process with exactly `env` as its environment, in `cwd`; stdout and
// stderr are collected while it runs. A child still running at destruction is killed.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
        const std::string& cwd) {
    std::vector<std::string> argv_storage = {SFKB_BINARY};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : argv_storage) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    std::vector<std::string> env_storage;
    for (const auto& [name, value] : env) {
      env_storage.push_back(name + "=" + value);
    }
    std::vector<char*> envp;
    for (auto& entry : env_storage) {
      envp.push_back(entry.data());
    }
    envp.push_back(nullptr);

    int out_pipe[2];
    int err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe failed";
      return;
    }
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out_pipe[1], STDOUT_FILENO);
      dup2(err_pipe[1], STDERR_FILENO);
      if (chdir(cwd.c_str()) != 0) {
        _exit(127);
      }
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    fds_[0] = {out_pipe[0], POLLIN, 0};
    fds_[1] = {err_pipe[0], POLLIN, 0};
  }

  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    for (auto& fd : fds_) {
      if (fd.fd >= 0) {
        close(fd.fd);
      }
    }
  }

  // Reads output until stdout contains `text` (true) or both streams end or the deadline passes.
  bool wait_for_stdout(const std::string& text, std::chrono::seconds timeout) {
    return pump(timeout, [&] { return outcome_.out.find(text) != std::string::npos; });
  }

  void send(int signal) { kill(pid_, signal); }

  // Reads everything until the child closes its output, then reaps it.
  Outcome finish(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    if (!pump(timeout, [] { return false; }) && (fds_[0].fd >= 0 || fds_[1].fd >= 0)) {
      ADD_FAILURE() << "sf-kafka-bridge did not finish within " << timeout.count() << " s";
      kill(pid_, SIGKILL);
    }
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    outcome_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return outcome_;
  }

 private:
  template <typename Done>
  bool pump(std::chrono::seconds timeout, Done done) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string* sinks[2] = {&outcome_.out, &outcome_.err};
    while (!done() && (fds_[0].fd >= 0 || fds_[1].fd >= 0)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return false;
      }
      if (poll(fds_, 2, static_cast<int>(left.count())) < 0) {
        continue;
      }
      for (int i = 0; i < 2; ++i) {
        if (fds_[i].fd >= 0 && (fds_[i].revents & (POLLIN | POLLHUP | POLLERR))) {
          char buffer[4096];
          const ssize_t n = read(fds_[i].fd, buffer, sizeof(buffer));
          if (n > 0) {
            sinks[i]->append(buffer, static_cast<std::size_t>(n));
          } else {
            close(fds_[i].fd);
            fds_[i].fd = -1;
          }
        }
      }
    }
    return done() || (fds_[0].fd < 0 && fds_[1].fd < 0);
  }

  pid_t pid_ = -1;
  bool reaped_ = false;
  pollfd fds_[2] = {{-1, POLLIN, 0}, {-1, POLLIN, 0}};
  Outcome outcome_;
};

Outcome run(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const std::string& cwd = SFKB_SOURCE_DIR) {
  return Child(args, env, cwd).finish();
}

// A loopback port with nothing listening: bound by the OS, then released.
int closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// The three variables the example configuration (config/) needs.
const std::map<std::string, std::string> kExampleEnv = {
    {"SF_CLIENT_ID", "3MVG9example-client-id"},
    {"SF_USERNAME", "integration@example.com"},
    {"KAFKA_URL", "kafka+ssl://broker1.example.com:9096,kafka+ssl://broker2.example.com:9096"}};

const std::string kExample = "config/sf-kafka-bridge.example.yaml";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sfkb-cli-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& content) const {
    const auto file = path_ + "/" + name;
    std::ofstream(file) << content;
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Cli, ShouldExit64WithoutACommand) {
  auto outcome = run({}, {});
  EXPECT_EQ(outcome.exit_code, 64);
  EXPECT_THAT(outcome.err, HasSubstr("subcommand is required"));
}

TEST(Cli, ShouldExit64OnAnUnknownOptionOrCommand) {
  EXPECT_EQ(run({"check-config", "--colour"}, {}).exit_code, 64);
  EXPECT_EQ(run({"frobnicate"}, {}).exit_code, 64);
  EXPECT_EQ(
      run({"check-config", "--config", kExample, "--log-level", "loud"}, kExampleEnv).exit_code,
      64);
}

TEST(Cli, ShouldExit64WhenNoConfigurationIsGiven) {
  auto outcome = run({"check-config"}, {});
  EXPECT_EQ(outcome.exit_code, 64);
  EXPECT_THAT(outcome.err, HasSubstr("pass --config FILE or set SF_KAFKA_BRIDGE_CONFIG"));
}

TEST(Cli, ShouldPrintHelpForTheProgramAndEveryCommand) {
  auto top = run({"--help"}, {});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_THAT(top.out, AllOf(HasSubstr("run"), HasSubstr("check-config"), HasSubstr("checkpoints"),
                             HasSubstr("version")));
  for (const std::string command : {"run", "check-config", "checkpoints", "version"}) {
    auto help = run({command, "--help"}, {});
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_THAT(help.out, AllOf(HasSubstr("--config"), HasSubstr("--log-level"))) << command;
  }
}

TEST(Cli, ShouldPrintTheVersionAndCommit) {
  auto outcome = run({"version"}, {});
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_THAT(outcome.out, AllOf(HasSubstr("sf-kafka-bridge "), HasSubstr("(commit ")));
}

TEST(Cli, ShouldAcceptTheExampleWithOnlyTheThreeDocumentedVariables) {
  auto outcome = run({"check-config", "--config", kExample}, kExampleEnv);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_THAT(outcome.out, HasSubstr("client_id: \"3MVG9example-client-id\""));
  EXPECT_THAT(outcome.out, HasSubstr("flow: jwt_bearer"));
  EXPECT_THAT(outcome.out, HasSubstr("channel: \"/event/Flight_Approved__e\""));
}

TEST(Cli, ShouldAcceptTheExampleFromAnyWorkingDirectory) {
  auto outcome = run({"check-config", "--config", std::string(SFKB_SOURCE_DIR) + "/" + kExample},
                     kExampleEnv, "/");
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
}

TEST(Cli, ShouldHideSecretsInTheEffectiveConfiguration) {
  TempDir dir;
  const auto path = dir.write("bridge.yaml", R"(salesforce:
  auth:
    flow: password
    client_id: 3MVG9
    client_secret: ${SECRET}
    username: u@example.com
    password: literal-pa55word-in-file
kafka:
  bootstrap_servers: localhost:9092
  properties:
    sasl.password: sasl-secret-value
subscribe:
  - channel: /event/A__e
    topic: a
)");
  auto outcome = run({"check-config", "--config", path}, {{"SECRET", "env-client-secret-value"}});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_THAT(outcome.out, HasSubstr("client_secret: \"***\""));
  EXPECT_THAT(outcome.out, HasSubstr("sasl.password: \"***\""));
  for (const char* secret :
       {"env-client-secret-value", "literal-pa55word-in-file", "sasl-secret-value"}) {
    EXPECT_THAT(outcome.out, Not(HasSubstr(secret)));
    EXPECT_THAT(outcome.err, Not(HasSubstr(secret)));
  }
}

// A file with several unrelated mistakes: each one is reported, none hides another.
TEST(Cli, ShouldReportEveryProblemOnItsOwnLineAndExit78) {
  TempDir dir;
  const auto path = dir.write("bad.yaml", R"(salesforce:
  auth:
    flow: oauth_magic
kafka:
  bootstrap_servers: localhost:9092
  colour: blue
subscribe:
  - channel: /event/Order__e
    topic: ""
)");
  for (const std::string command : {"check-config", "run"}) {
    auto outcome = run({command, "--config", path}, {});
    EXPECT_EQ(outcome.exit_code, 78) << command;
    EXPECT_THAT(outcome.out, IsEmpty());
    EXPECT_EQ(outcome.err, path +
                               ": salesforce.auth.flow: \"oauth_magic\" is not one of: jwt_bearer, "
                               "client_credentials, refresh_token, password, access_token (line "
                               "3, column 11)\n" +
                               path +
                               ": kafka.colour: unknown key; valid keys here: bootstrap_servers, "
                               "topic_prefix, properties, embedded, flush_timeout, create_topics "
                               "(line 6, column 3)\n" +
                               path +
                               ": subscribe[0].topic: must not be empty (line 9, column 12)\n");
  }
}

TEST(Cli, ShouldExit78ForAMissingFileOrNonYaml) {
  TempDir dir;
  auto missing = run({"check-config", "--config", "/nonexistent/bridge.yaml"}, {});
  EXPECT_EQ(missing.exit_code, 78);
  EXPECT_THAT(missing.err, HasSubstr("cannot read /nonexistent/bridge.yaml: No such file"));

  auto garbage = run({"check-config", "--config", dir.write("x.yaml", "a: [1, 2\nb: {\n")}, {});
  EXPECT_EQ(garbage.exit_code, 78);
  EXPECT_THAT(garbage.err, HasSubstr("not valid YAML"));
  EXPECT_THAT(garbage.err, Not(HasSubstr("terminate")));
}

TEST(Cli, ShouldExit78ForAnUnreadableKeyFile) {
  std::map<std::string, std::string> env = kExampleEnv;
  env["SF_PRIVATE_KEY_FILE"] = "/nonexistent/jwt.key";
  auto outcome = run({"check-config", "--config", kExample}, env);
  EXPECT_EQ(outcome.exit_code, 78);
  EXPECT_THAT(outcome.err, HasSubstr("salesforce.auth.private_key_file: cannot read "
                                     "\"/nonexistent/jwt.key\""));
}

TEST(Cli, ShouldExit78WhenNothingIsBridged) {
  TempDir dir;
  const auto path = dir.write("empty.yaml", R"(salesforce:
  auth: {flow: access_token, access_token: x, instance_url: "http://127.0.0.1:1"}
kafka: {embedded: true}
subscribe: []
publish: []
)");
  auto outcome = run({"check-config", "--config", path}, {});
  EXPECT_EQ(outcome.exit_code, 78);
  EXPECT_THAT(outcome.err, HasSubstr("subscribe and publish are both empty"));
}

TEST(Cli, ShouldReadTheConfigurationFromTheEnvironmentWithoutConfigOption) {
  auto outcome = run({"check-config"}, {{"SF_KAFKA_BRIDGE_CONFIG", R"(salesforce:
  auth: {flow: access_token, access_token: tok, instance_url: "http://127.0.0.1:1"}
kafka: {embedded: true}
subscribe: [{channel: /event/A__e, topic: a}]
)"}});
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_THAT(outcome.out, HasSubstr("from $SF_KAFKA_BRIDGE_CONFIG"));
}

// `run` takes SIGTERM as a request to stop gracefully: the signal is logged by the watcher thread
// and the process exits 0 once the pipelines stopped. Salesforce is a closed loopback port here,
// so the pipeline is retrying its connection when the signal arrives.
TEST(Cli, ShouldStopGracefullyOnSigterm) {
  TempDir dir;
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port());
  const auto path = dir.write("run.yaml", R"(salesforce:
  auth: {flow: access_token, access_token: test-token-value, instance_url: ")" +
                                              url + R"("}
  retry: {initial_backoff: 50ms, max_backoff: 200ms}
kafka: {embedded: true}
checkpoint: {directory: )" + dir.path() +
                                              R"(/state}
subscribe: [{channel: /event/A__e, topic: a}]
http: {listen: "127.0.0.1:0"}
shutdown: {timeout: 10s}
)");
  Child child({"run", "--config", path}, {}, SFKB_SOURCE_DIR);
  ASSERT_TRUE(child.wait_for_stdout("starting sf-kafka-bridge", std::chrono::seconds(30)));
  child.send(SIGTERM);
  auto outcome = child.finish(std::chrono::seconds(30));
  EXPECT_EQ(outcome.exit_code, 0) << outcome.out << outcome.err;
  EXPECT_THAT(outcome.out, HasSubstr("SIGTERM received: stopping gracefully"));
  EXPECT_THAT(outcome.out + outcome.err, Not(HasSubstr("test-token-value")));
}

// --- secrets, bounds, plain http and the checkpoint directory, as the CLI reports them ------

// check-config runs in the unit's ExecStartPre: its output lands in the journal at every start.
TEST(Cli, ShouldHideEverySensitiveKafkaPropertyInCheckConfig) {
  TempDir dir;
  const auto path = dir.write("kafka-secrets.yaml", R"(salesforce:
  auth: {flow: access_token, access_token: "${TOKEN}", instance_url: "https://x.example.com"}
kafka:
  bootstrap_servers: localhost:9092
  properties:
    ssl.key.pem: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END PRIVATE KEY-----\n"
    ssl.key.password: ssl-key-pa55
    ssl.keystore.password: keystore-pa55
    sasl.username: sasl-user-name
    sasl.password: sasl-pa55-word
    sasl.oauthbearer.config: "principal=admin clientSecret=oidc-client-s3cr3t"
    client.id: bridge-1
subscribe:
  - channel: /event/A__e
    topic: a
checkpoint: {directory: )" + dir.path() + R"(/state}
)");
  auto outcome = run({"check-config", "--config", path}, {{"TOKEN", "00Dxx-access-token"}});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  for (const char* secret :
       {"MIIEvQIBADANBgkqhkiG9w0B", "ssl-key-pa55", "keystore-pa55", "sasl-user-name",
        "sasl-pa55-word", "oidc-client-s3cr3t", "principal=admin", "00Dxx-access-token"}) {
    EXPECT_THAT(outcome.out, Not(HasSubstr(secret)));
    EXPECT_THAT(outcome.err, Not(HasSubstr(secret)));
  }
  EXPECT_THAT(outcome.out, AllOf(HasSubstr("ssl.key.pem: \"***\""),
                                 HasSubstr("sasl.oauthbearer.config: \"***\""),
                                 HasSubstr("client.id: \"bridge-1\"")));
}

TEST(Cli, ShouldRefuseUnboundedSettingsAndHttpToNonLoopbackHosts) {
  TempDir dir;
  const auto path = dir.write("bounds.yaml", R"(salesforce:
  login_url: http://127.attacker.example
  auth: {flow: access_token, access_token: tok-123456, instance_url: "http://127.0.0.1.nip.io:8080"}
kafka: {embedded: true}
subscribe: [{channel: /event/A__e, topic: a}]
shutdown:
  timeout: 9223372036854775807
)");
  for (const std::string command : {"check-config", "run"}) {
    auto outcome = run({command, "--config", path}, {});
    EXPECT_EQ(outcome.exit_code, 78) << command;
    EXPECT_EQ(outcome.err,
              path +
                  ": salesforce.login_url: \"http://127.attacker.example\" uses plain http, "
                  "which is allowed only for localhost, 127.0.0.0/8 or [::1] (a local "
                  "emulator) (line 2, column 14)\n" +
                  path +
                  ": salesforce.auth.instance_url: \"http://127.0.0.1.nip.io:8080\" uses plain "
                  "http, which is allowed only for localhost, 127.0.0.0/8 or [::1] (a local "
                  "emulator) (line 3, column 70)\n" +
                  path +
                  ": shutdown.timeout: must be between 1s and 10m, got \"9223372036854775807\" "
                  "(line 7, column 12)\n")
        << command;
  }
}

// An unwritable checkpoint directory: `run` exits 78 naming it before anything connects (it used
// to warn every second and exit 70 at the stop); check-config warns without creating anything.
TEST(Cli, ShouldCheckTheCheckpointDirectoryBeforeConnecting) {
  TempDir dir;
  const auto blocker = dir.write("not-a-directory", "x");
  const std::string state = blocker + "/state";
  const auto path = dir.write("state.yaml", R"(salesforce:
  auth: {flow: access_token, access_token: tok-123456, instance_url: "http://127.0.0.1:)" +
                                                std::to_string(closed_port()) + R"("}
kafka: {embedded: true}
checkpoint: {directory: )" + state + R"(}
subscribe: [{channel: /event/A__e, topic: a}]
http: {listen: "127.0.0.1:0"}
)");
  auto started = run({"run", "--config", path}, {});
  EXPECT_EQ(started.exit_code, 78) << started.out << started.err;
  EXPECT_THAT(started.err,
              HasSubstr(path + ": checkpoint.directory: cannot create \"" + state + "\""));
  EXPECT_THAT(started.err, HasSubstr("is not a directory"));
  EXPECT_THAT(started.out, Not(HasSubstr("starting sf-kafka-bridge"))) << "nothing started";

  auto checked = run({"check-config", "--config", path}, {});
  EXPECT_EQ(checked.exit_code, 0) << checked.err;
  EXPECT_THAT(checked.err, HasSubstr("warning: checkpoint.directory: cannot create \"" + state));

  // A missing directory under a writable parent is fine, and check-config does not create it.
  const auto fine = dir.write("fine.yaml", R"(salesforce:
  auth: {flow: access_token, access_token: tok-123456, instance_url: "http://127.0.0.1:1"}
kafka: {embedded: true}
checkpoint: {directory: )" + dir.path() + R"(/new/state}
subscribe: [{channel: /event/A__e, topic: a}]
)");
  auto ok = run({"check-config", "--config", fine}, {});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.err, Not(HasSubstr("warning")));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/new")) << "check-config has no side effects";
}

}  // namespace
