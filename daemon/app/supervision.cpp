#include "daemon/app/supervision.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "daemon/ops/log.h"
#include "daemon/ops/log_fields.h"

namespace sfkb::app {
namespace {

// What the pipeline threads share with the supervisor. Owned through shared_ptr by every thread,
// so a thread that outlives an overrun shutdown (detached) still writes into live memory.
struct SharedState {
  std::mutex mutex;
  std::condition_variable_any changed;
  std::size_t finished = 0;
  std::vector<std::optional<core::Status>> results;
  std::stop_source stop;
};

std::string status_line(const std::vector<PipelineSlot>& slots) {
  std::string line;
  for (const auto& slot : slots) {
    if (!line.empty()) {
      line += ", ";
    }
    line += slot.name + (slot.ready() ? " connected" : " connecting");
  }
  return line;
}

}  // namespace

int exit_code_for(const core::Status& status) {
  if (!status.is_ok() && status.kind() == core::ErrorKind::kRetry) {
    return exit_code::kUnavailable;
  }
  return exit_code::kSoftware;
}

std::vector<ops::ReadinessState> readiness_of(const std::vector<PipelineSlot>& slots,
                                              bool stopping) {
  std::vector<ops::ReadinessState> states;
  for (const auto& slot : slots) {
    if (stopping) {
      states.push_back({slot.name, false, "shutting down"});
    } else {
      const bool ready = slot.ready();
      std::string reason;
      if (!ready) {
        reason = slot.not_ready_reason ? slot.not_ready_reason() : "not connected yet";
      } else if (slot.note) {
        reason = slot.note();
      }
      states.push_back({slot.name, ready, std::move(reason)});
    }
  }
  return states;
}

SupervisionResult supervise(const std::vector<PipelineSlot>& slots, ops::Notifier& notifier,
                            const SupervisorOptions& options, std::stop_token stop) {
  auto log = ops::logger("supervisor");
  auto state = std::make_shared<SharedState>();
  state->results.resize(slots.size());
  // The caller's token (signals) stops everything; so does a pipeline that gives up.
  std::stop_callback forward(stop, [state] { state->stop.request_stop(); });

  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    threads.emplace_back([state, i, name = slots[i].name, run = slots[i].run] {
      core::Status status;
      try {
        status = run(state->stop.get_token());
      } catch (const std::exception& e) {
        // Exceptions are for start-up only (docs/CONVENTIONS.md §4); one escaping a running loop is
        // a bug, but it must still bring the whole process down in order, not via std::terminate.
        status = core::fatal_error(std::string("unexpected exception: ") + e.what());
      }
      std::lock_guard lock(state->mutex);
      state->results[i] = status;
      ++state->finished;
      if (!state->stop.stop_requested()) {
        state->stop.request_stop();
      }
      state->changed.notify_all();
    });
  }

  log->info("started {} pipeline(s); waiting for them to connect", slots.size());
  notifier.notify("STATUS=starting: " + status_line(slots));
  bool all_ready_once = false;
  std::string last_status;
  {
    std::unique_lock lock(state->mutex);
    const auto token = state->stop.get_token();
    while (!token.stop_requested()) {
      state->changed.wait_for(lock, token, options.poll_interval, [] { return false; });
      if (token.stop_requested()) {
        break;
      }
      lock.unlock();
      bool all_ready = true;
      for (const auto& slot : slots) {
        all_ready = all_ready && slot.ready();
      }
      const auto line = (all_ready ? "running: " : "degraded: ") + status_line(slots);
      if (all_ready && !all_ready_once) {
        all_ready_once = true;
        log->info("all pipelines connected: {}", status_line(slots));
        notifier.notify("READY=1\nSTATUS=" + line);
        last_status = line;
      } else if (all_ready_once && line != last_status) {
        // Lost or regained a connection after start: systemctl status shows it at once.
        notifier.notify("STATUS=" + line);
        last_status = line;
      }
      lock.lock();
    }
  }

  // Either a signal or a pipeline ended. Which one decides the exit code.
  std::optional<std::size_t> culprit;
  {
    std::lock_guard lock(state->mutex);
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (state->results[i] && !stop.stop_requested()) {
        culprit = i;
        break;
      }
    }
  }
  SupervisionResult result;
  if (culprit) {
    const auto& status = *state->results[*culprit];
    result.exit_code = exit_code_for(status);
    const std::string why =
        status.is_ok() ? std::string("returned without being asked to stop")
                       : std::string(core::to_string(status.kind())) + ": " + status.message();
    ops::error(log, "{} stopped: {}; stopping the others, exit code {}",
               ops::field("pipeline", slots[*culprit].name), why, result.exit_code);
    notifier.notify("STOPPING=1\nSTATUS=stopping: " + slots[*culprit].name + " failed: " + why);
  } else {
    log->info("stop requested; shutting down (at most {} ms)", options.shutdown_timeout.count());
    notifier.notify("STOPPING=1\nSTATUS=stopping");
  }

  const auto deadline = std::chrono::steady_clock::now() + options.shutdown_timeout;
  bool all_finished = false;
  {
    std::unique_lock lock(state->mutex);
    all_finished =
        state->changed.wait_until(lock, deadline, [&] { return state->finished == slots.size(); });
  }
  if (!all_finished) {
    std::string pending;
    {
      std::lock_guard lock(state->mutex);
      for (std::size_t i = 0; i < slots.size(); ++i) {
        if (!state->results[i]) {
          pending += (pending.empty() ? "" : ",") + slots[i].name;
        }
      }
    }
    ops::error(log,
               "shutdown exceeded {} ms; still running: {}; exiting without waiting (the "
               "checkpoint on disk stays at the last acknowledged event)",
               ops::field("shutdown.timeout", options.shutdown_timeout.count()), pending);
    for (auto& t : threads) {
      t.detach();
    }
    result.exit_code = exit_code::kSoftware;
    result.shutdown_timed_out = true;
    return result;
  }
  for (auto& t : threads) {
    t.join();
  }
  // A pipeline that failed while stopping (e.g. the final flush could not reach Kafka) makes the
  // exit non-zero too: its checkpoint stayed behind and the next start replays from there.
  for (std::size_t i = 0; i < slots.size() && result.exit_code == exit_code::kOk; ++i) {
    const auto& status = *state->results[i];
    if (!status.is_ok() && status.kind() != core::ErrorKind::kStopped) {
      ops::error(log, "{} failed during shutdown: {}", ops::field("pipeline", slots[i].name),
                 status.message());
      result.exit_code = exit_code_for(status);
    }
  }
  log->info("all pipelines stopped; exit code {}", result.exit_code);
  return result;
}

}  // namespace sfkb::app
