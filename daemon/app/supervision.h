#pragma once
// How the supervisor sees a pipeline, and the supervision loop itself, kept apart from the code
// that builds the real pipelines (composition_root.h) so it can be tested with fake pipelines.

#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "daemon/app/exit_codes.h"
#include "daemon/core/result.h"
#include "daemon/ops/health_server.h"
#include "daemon/ops/sd_notify.h"

namespace sfkb::app {

struct PipelineSlot {
  std::string name;  // "subscribe" / "publish": log lines, /readyz, STATUS=
  // Runs until the token is stopped (then returns ok or kStopped after its own orderly shutdown)
  // or until it cannot go on (any other error). Runs on a thread of its own.
  std::function<core::Status(std::stop_token)> run;
  // Authenticated and connected (CometD session up / consumer assigned). Called from any thread.
  std::function<bool()> ready;
  // Why not ready, for /readyz; called only when ready() is false. Empty: "not connected yet".
  std::function<std::string()> not_ready_reason;
  // Something /readyz says while ready (e.g. "owns no channel"); unset or empty: nothing.
  std::function<std::string()> note;
};

struct SupervisorOptions {
  std::chrono::milliseconds shutdown_timeout{20000};
  // How often readiness is looked at for READY=1 / STATUS=. Short: it also bounds how long a
  // stop request waits before the supervisor notices (the stop itself wakes it at once).
  std::chrono::milliseconds poll_interval{200};
};

struct SupervisionResult {
  int exit_code = app::exit_code::kOk;
  // The pipelines did not finish within shutdown_timeout; their threads were detached and still
  // use what their functions captured, so the caller must end the process without unwinding.
  bool shutdown_timed_out = false;
};

// The exit code a pipeline's final status maps to (its stop was not requested by us):
// kRetry (a dependency it gave up on) -> 69, anything else (kFatal, kInvalidInput, an unexpected
// ok) -> 70.
int exit_code_for(const core::Status& status);

// Starts every slot on its own thread under one stop source linked to `stop`; sends READY=1 once
// every slot is ready and STATUS= on every readiness change; when `stop` fires or any pipeline
// ends, requests stop for all, sends STOPPING=1 and waits up to shutdown_timeout for them.
SupervisionResult supervise(const std::vector<PipelineSlot>& slots, ops::Notifier& notifier,
                            const SupervisorOptions& options, std::stop_token stop);

// The /readyz view of `slots`; `stopping` makes every one not ready (a stopping bridge should
// not receive traffic and a load balancer should know).
std::vector<ops::ReadinessState> readiness_of(const std::vector<PipelineSlot>& slots,
                                              bool stopping);

}  // namespace sfkb::app
