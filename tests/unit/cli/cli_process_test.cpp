// Runs the real sf-kafka-bridge executable and checks what an operator sees: exit codes, help,
// problems on stderr, the effective configuration on stdout with secrets hidden.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
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

// Runs the binary with exactly `env` as its environment, in `cwd`, and collects its output. A
// child still running after the deadline is killed and reported as exit code -1.
Outcome run(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const std::string& cwd = SFKB_SOURCE_DIR) {
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
    return {};
  }
  const pid_t pid = fork();
  if (pid == 0) {
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

  Outcome outcome;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&outcome.out, &outcome.err};
  int open_fds = 2;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      ADD_FAILURE() << "sf-kafka-bridge did not finish within 60 s";
      break;
    }
    if (poll(fds, 2, static_cast<int>(left.count())) < 0) {
      continue;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        char buffer[4096];
        const ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
        if (n > 0) {
          sinks[i]->append(buffer, static_cast<std::size_t>(n));
        } else {
          close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
        }
      }
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) {
      close(fd.fd);
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
}

// The three variables the example configuration needs (issue 2).
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

// The issue's "done when" file.
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
                               "topic_prefix, properties, embedded, flush_timeout (line 6, column "
                               "3)\n" +
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

}  // namespace
