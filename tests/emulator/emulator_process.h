#pragma once

// Starts the real `sf-emulator` binary as a child process and talks to its admin API, so that
// tests and benchmarks exercise the daemon against a Salesforce peer over real sockets.
//
// Usage (link the CMake target `sfkb_emulator_testing`):
//
//   #include "emulator/emulator_process.h"
//   using sfkb::emulator::testing::EmulatorProcess;
//
//   EmulatorProcess::Options opts;
//   opts.events_yaml = "events:\n  Low_Ink__e:\n    Printer_Model__c: string\n";
//   opts.extra_args = {"--connect-timeout-ms", "2000"};
//   EmulatorProcess sf(opts);            // throws std::runtime_error if it can't start
//   sf.base_url();                       // "http://127.0.0.1:PORT": login and instance URL
//   sf.static_token();                   // a bearer token valid for every endpoint
//   auto ids = sf.inject("/event/Low_Ink__e", 100, R"({"Printer_Model__c":"XZO-{seq}"})");
//   sf.inject_json(R"({"channel":"/topic/Inks","sobject":{"Name":"I-{seq}"},"type":"updated"})");
//   sf.wait_for_published("Low_Ink__e", 10, std::chrono::seconds(10));  // what the daemon sent
//   sf.faults(R"({"drop_sessions":true})");
//   sf.stat("sessions_created");         // a number from /_emulator/stats
//   sf.stop();                           // SIGTERM, SIGKILL after a bound; also in ~
//
// Thread safety: the admin calls may be made from any thread (each opens its own connection);
// start/stop/kill belong to the owning thread.
//
// The binary is `$SF_EMULATOR_BINARY` when that variable is set, else the path CMake built.
// The emulator runs with --exit-on-stdin-eof on a pipe this object holds, so it also stops when
// the test process dies without running destructors (a crash, a ctest timeout).

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace sfkb::emulator::testing {

struct InjectResult {
  std::int64_t first_replay_id = 0;
  std::int64_t last_replay_id = 0;
};

struct PublishedEvents {
  std::size_t count = 0;            // total published for the event type
  std::vector<std::string> events;  // one compact JSON object per event, from `since`, in order
};

// The reply of an admin call that failed (not 2xx) or could not be made.
struct AdminError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class EmulatorProcess {
 public:
  struct Options {
    // Written to a temporary file and passed as --events. An empty string gives one event type,
    // Test_Event__e { Text__c: string, Number__c: number, Flag__c: boolean, When__c: datetime }.
    std::string events_yaml;
    // Passed as --static-token; empty: no static token (then use OAuth).
    std::string static_token = "test-static-token";
    std::vector<std::string> extra_args;  // any other command line flags, verbatim
    std::chrono::milliseconds start_timeout{15000};
    std::string binary;  // empty: default_binary()
  };

  explicit EmulatorProcess(Options options);
  EmulatorProcess() : EmulatorProcess(Options{}) {}
  ~EmulatorProcess();
  EmulatorProcess(const EmulatorProcess&) = delete;
  EmulatorProcess& operator=(const EmulatorProcess&) = delete;

  static std::string default_binary();

  const std::string& base_url() const { return base_url_; }  // http://127.0.0.1:PORT
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& static_token() const { return options_.static_token; }
  const std::string& events_file() const { return events_file_; }
  // The Pub/Sub API (gRPC) server's "host:port", empty when started with --pubsub-listen off;
  // pubsub_tls() when it was started with --pubsub-tls-cert/--pubsub-tls-key.
  const std::string& pubsub_address() const { return pubsub_address_; }
  bool pubsub_tls() const { return pubsub_tls_; }

  // POST /_emulator/inject. payload_json is a JSON object; string values may contain {seq}
  // (0..count-1 within this call) and {n} (a counter over the emulator's lifetime).
  InjectResult inject(const std::string& channel, std::size_t count,
                      const std::string& payload_json = "{}");
  // POST /_emulator/inject with a whole body, for the kinds that are not described by a payload:
  // {"channel":"/topic/X","count":N,"sobject":{…},"type":"updated"} or
  // {"channel":"/data/XChangeEvent","count":N,"change":{…},"payload":{…}}
  // (tests/emulator/README.md "Admin API"). Throws AdminError on a 400.
  InjectResult inject_json(const std::string& body_json);
  // GET /_emulator/published?event=NAME&since=SINCE.
  PublishedEvents published(const std::string& event_name, std::size_t since = 0);
  // Polls published() until at least `count` events of the type arrived or the deadline passes;
  // returns what was there last (check .count).
  PublishedEvents wait_for_published(const std::string& event_name, std::size_t count,
                                     std::chrono::milliseconds timeout);
  // POST /_emulator/faults with a JSON object such as {"expire_tokens":true}; returns the reply.
  std::string faults(const std::string& faults_json);
  void reset();         // POST /_emulator/reset
  std::string stats();  // GET /_emulator/stats, raw JSON
  // GET /_emulator/limits (empty body) or POST it (e.g. {"roll_over":"hour"}); the raw reply,
  // {"DailyApiRequests":{"Max":M,"Remaining":R,"Used":U},...}.
  std::string limits(const std::string& body_json = "");
  // Used of one allocation (e.g. "HourlyPublishedPlatformEvents"); throws AdminError if unknown.
  std::int64_t limit_used(const std::string& name);
  // One top-level number of /_emulator/stats ("sessions", "sessions_created", "tokens_issued",
  // "events_delivered", "connects_in_flight", …); throws AdminError for an unknown key.
  std::int64_t stat(const std::string& key);

  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status as from waitpid
  // (WEXITSTATUS etc.), or -1 if it had already been reaped. Idempotent.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  // SIGKILL now (simulates an org outage); the process is reaped. Idempotent.
  void kill();
  bool running() const { return pid_ > 0; }

 private:
  std::string admin_get(const std::string& path);
  std::string admin_post(const std::string& path, const std::string& body);

  Options options_;
  std::string temp_dir_;
  std::string events_file_;
  std::string base_url_;
  std::string host_;
  int port_ = 0;
  std::string pubsub_address_;
  bool pubsub_tls_ = false;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;  // write end of the emulator's stdin pipe
};

}  // namespace sfkb::emulator::testing
