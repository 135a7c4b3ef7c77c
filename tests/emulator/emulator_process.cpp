#include "emulator/emulator_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <thread>

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "tests/support/seed.h"

extern char** environ;

namespace sfkb::emulator::testing {
namespace {

constexpr const char* kDefaultEvents =
    "events:\n"
    "  Test_Event__e:\n"
    "    Text__c: string\n"
    "    Number__c: number\n"
    "    Flag__c: boolean\n"
    "    When__c: datetime\n";

constexpr const char* kListeningPrefix = "listening on http://";

std::string make_temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sf-emulator-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("sf-emulator: mkdtemp failed: " + std::string(std::strerror(errno)));
  }
  return tmpl;
}

// Reads stdout of the child until one full line arrived, the child died or the deadline passed.
// The emulator prints its HTTP line and, unless --pubsub-listen off, its Pub/Sub line, both in
// one write, and nothing else; `buffer` keeps what was read past the first line.
std::string read_first_line(int fd, pid_t pid, std::chrono::steady_clock::time_point deadline,
                            std::string& buffer) {
  while (true) {
    auto newline = buffer.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      throw std::runtime_error("sf-emulator did not print its listening line in time (pid " +
                               std::to_string(pid) + ")");
    }
    pollfd pfd{fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left.count(), 200)));
    if (ready < 0 && errno != EINTR) {
      throw std::runtime_error("sf-emulator: poll failed");
    }
    if (ready > 0) {
      char chunk[512];
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n > 0) {
        buffer.append(chunk, static_cast<std::size_t>(n));
      } else if (n == 0) {
        throw std::runtime_error("sf-emulator exited before listening; stdout so far: " + buffer);
      }
    }
  }
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

std::string compact(const rapidjson::Value& value) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> writer(sb);
  value.Accept(writer);
  return {sb.GetString(), sb.GetSize()};
}

}  // namespace

std::string EmulatorProcess::default_binary() {
  if (const char* env = std::getenv("SF_EMULATOR_BINARY"); env != nullptr && *env != '\0') {
    return env;
  }
  return SFKB_EMULATOR_BINARY;
}

EmulatorProcess::EmulatorProcess(Options options) : options_(std::move(options)) {
  temp_dir_ = make_temp_dir();
  events_file_ = temp_dir_ + "/events.yaml";
  {
    std::ofstream out(events_file_);
    out << (options_.events_yaml.empty() ? kDefaultEvents : options_.events_yaml);
  }
  std::string binary = options_.binary.empty() ? default_binary() : options_.binary;

  std::vector<std::string> args = {binary,     "--listen",   "127.0.0.1:0",
                                   "--events", events_file_, "--exit-on-stdin-eof"};
  if (!options_.static_token.empty()) {
    args.push_back("--static-token");
    args.push_back(options_.static_token);
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  if (std::find(args.begin(), args.end(), "--seed") == args.end()) {
    // Its IDs and replay-ID gaps follow the test's seed, so SFKB_TEST_SEED replays them too
    // (tests/support/seed.h); the n-th emulator of a test process gets the n-th derived seed.
    static std::atomic<std::uint32_t> started{0};
    args.push_back("--seed");
    args.push_back(std::to_string(test_support::derived_seed(started++)));
  }
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);

  int pipe_fds[2];
  int stdin_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw std::runtime_error("sf-emulator: pipe failed");
  }
  if (::pipe2(stdin_fds, O_CLOEXEC) != 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw std::runtime_error("sf-emulator: pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, stdin_fds[0], STDIN_FILENO);
  int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  ::close(stdin_fds[0]);
  // Held open for the emulator's lifetime: when this process dies, however abruptly, the pipe
  // closes and the emulator (--exit-on-stdin-eof) stops instead of lingering.
  stdin_fd_ = stdin_fds[1];
  if (rc != 0) {
    ::close(pipe_fds[0]);
    ::close(stdin_fd_);
    stdin_fd_ = -1;
    pid_ = -1;
    throw std::runtime_error("sf-emulator: cannot start " + binary + ": " + std::strerror(rc));
  }

  try {
    std::string buffer;
    auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
    std::string line = read_first_line(pipe_fds[0], pid_, deadline, buffer);
    auto at = line.find(kListeningPrefix);
    if (at == std::string::npos) {
      throw std::runtime_error("sf-emulator printed an unexpected line: " + line);
    }
    std::string host_port = line.substr(at + std::strlen(kListeningPrefix));
    auto colon = host_port.rfind(':');
    host_ = host_port.substr(0, colon);
    port_ = std::stoi(host_port.substr(colon + 1));
    base_url_ = "http://" + host_port;
    bool pubsub_off = false;
    for (std::size_t i = 0; i + 1 < options_.extra_args.size(); ++i) {
      pubsub_off = pubsub_off || (options_.extra_args[i] == "--pubsub-listen" &&
                                  options_.extra_args[i + 1] == "off");
    }
    if (!pubsub_off) {
      // "pubsub listening on HOST:PORT (tls|plaintext)"
      std::string pubsub = read_first_line(pipe_fds[0], pid_, deadline, buffer);
      constexpr std::string_view kPubsubPrefix = "pubsub listening on ";
      if (pubsub.rfind(kPubsubPrefix, 0) != 0) {
        throw std::runtime_error("sf-emulator printed an unexpected second line: " + pubsub);
      }
      auto rest = pubsub.substr(kPubsubPrefix.size());
      pubsub_address_ = rest.substr(0, rest.find(' '));
      pubsub_tls_ = rest.find("(tls)") != std::string::npos;
    }
  } catch (...) {
    ::close(pipe_fds[0]);
    stop(std::chrono::milliseconds(2000));
    throw;
  }
  // The emulator prints nothing after the listening line (logs go to stderr, which the child
  // inherits) and ignores SIGPIPE, so the read end can go now.
  ::close(pipe_fds[0]);
}

EmulatorProcess::~EmulatorProcess() {
  stop();
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
  }
  std::error_code ec;
  std::filesystem::remove_all(temp_dir_, ec);
}

int EmulatorProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) {
    return -1;
  }
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) {
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    // Polling a child's exit has no wakeable primitive short of SIGCHLD handling, which would
    // interfere with the test process; 10 ms granularity bounds the cost.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return status;
}

void EmulatorProcess::kill() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string EmulatorProcess::admin_get(const std::string& path) {
  httplib::Client client(host_, port_);
  client.set_read_timeout(std::chrono::seconds(60));
  auto res = client.Get(path.c_str());
  if (!res) {
    throw AdminError("sf-emulator GET " + path + ": " + httplib::to_string(res.error()));
  }
  if (res->status / 100 != 2) {
    throw AdminError("sf-emulator GET " + path + ": HTTP " + std::to_string(res->status) + " " +
                     res->body);
  }
  return res->body;
}

std::string EmulatorProcess::admin_post(const std::string& path, const std::string& body) {
  httplib::Client client(host_, port_);
  client.set_read_timeout(std::chrono::seconds(60));
  auto res = client.Post(path.c_str(), body, "application/json");
  if (!res) {
    throw AdminError("sf-emulator POST " + path + ": " + httplib::to_string(res.error()));
  }
  if (res->status / 100 != 2) {
    throw AdminError("sf-emulator POST " + path + ": HTTP " + std::to_string(res->status) + " " +
                     res->body);
  }
  return res->body;
}

InjectResult EmulatorProcess::inject(const std::string& channel, std::size_t count,
                                     const std::string& payload_json) {
  rapidjson::Document payload;
  if (payload.Parse(payload_json.c_str()).HasParseError() || !payload.IsObject()) {
    throw AdminError("inject: payload is not a JSON object: " + payload_json);
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("channel");
  w.String(channel.c_str(), static_cast<rapidjson::SizeType>(channel.size()));
  w.Key("count");
  w.Uint64(count);
  w.Key("payload");
  payload.Accept(w);
  w.EndObject();
  return inject_json(sb.GetString());
}

InjectResult EmulatorProcess::inject_json(const std::string& body_json) {
  std::string reply = admin_post("/_emulator/inject", body_json);
  rapidjson::Document doc;
  doc.Parse(reply.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("first_replay_id")) {
    throw AdminError("inject: unexpected reply " + reply);
  }
  return {doc["first_replay_id"].GetInt64(), doc["last_replay_id"].GetInt64()};
}

PublishedEvents EmulatorProcess::published(const std::string& event_name, std::size_t since) {
  std::string reply = admin_get("/_emulator/published?event=" + url_encode(event_name) +
                                "&since=" + std::to_string(since));
  rapidjson::Document doc;
  doc.Parse(reply.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("events")) {
    throw AdminError("published: unexpected reply " + reply);
  }
  PublishedEvents out;
  out.count = doc["count"].GetUint64();
  for (const auto& e : doc["events"].GetArray()) {
    out.events.push_back(compact(e));
  }
  return out;
}

PublishedEvents EmulatorProcess::wait_for_published(const std::string& event_name,
                                                    std::size_t count,
                                                    std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    PublishedEvents now = published(event_name);
    if (now.count >= count || std::chrono::steady_clock::now() >= deadline) {
      return now;
    }
    // The emulator has no "wait for publish" endpoint; a short poll interval bounded by the
    // deadline is the condition wait here.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string EmulatorProcess::faults(const std::string& faults_json) {
  return admin_post("/_emulator/faults", faults_json);
}

void EmulatorProcess::reset() {
  admin_post("/_emulator/reset", "{}");
}

std::string EmulatorProcess::limits(const std::string& body_json) {
  return body_json.empty() ? admin_get("/_emulator/limits")
                           : admin_post("/_emulator/limits", body_json);
}

std::int64_t EmulatorProcess::limit_used(const std::string& name) {
  rapidjson::Document doc;
  const std::string body = limits();
  doc.Parse(body.c_str(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(name.c_str()) ||
      !doc[name.c_str()].IsObject() || !doc[name.c_str()].HasMember("Used")) {
    throw AdminError("/_emulator/limits has no allocation " + name + ": " + body);
  }
  return doc[name.c_str()]["Used"].GetInt64();
}

std::string EmulatorProcess::stats() {
  return admin_get("/_emulator/stats");
}

std::int64_t EmulatorProcess::stat(const std::string& key) {
  std::string reply = stats();
  rapidjson::Document doc;
  doc.Parse(reply.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(key.c_str()) ||
      !doc[key.c_str()].IsInt64()) {
    throw AdminError("stats: no numeric `" + key + "` in " + reply);
  }
  return doc[key.c_str()].GetInt64();
}

}  // namespace sfkb::emulator::testing
