#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "allocations.h"
#include "event_bus.h"
#include "event_types.h"
#include "ids.h"
#include "options.h"

namespace sfkb::emulator {

using Clock = std::chrono::steady_clock;

// One CometD client as the server sees it.
struct Session {
  std::string client_id;
  std::string browser_id;                       // BAYEUX_BROWSER cookie bound to the session
  std::map<std::string, std::int64_t> cursors;  // channel -> last replay id delivered
  int connect_in_flight = 0;                    // long polls of this client now waiting
  // Bumped by every connect: a newer connect ends an older one still waiting (as CometD servers
  // do), so that events are never handed to a long poll the client has already abandoned.
  std::uint64_t connect_generation = 0;
  // False until the first successful /meta/connect: a CometD server never holds that one, so
  // that a client learns at once that it is connected (see cometd.cpp).
  bool connected = false;
  bool dropped = false;         // set by drop_sessions/reset/disconnect so a waiting long poll ends
  bool disconnected = false;    // dropped by the client's own /meta/disconnect
  Clock::time_point forget_at;  // no connect by then: the server forgets the client
};

// Fault switches set through POST /_emulator/faults; each *_next counter is consumed by the
// requests it affects.
struct Faults {
  struct FailNext {
    int count = 0;
    int status = 503;
    std::string error_code = "SERVER_UNAVAILABLE";
    std::string path;  // prefix of request paths it applies to; empty: every non-admin path
  };
  FailNext fail_next;
  std::int64_t latency_ms = 0;
  int busy_next_connects = 0;
  int daily_limit_next_connects = 0;
  int daily_limit_next_subscribes = 0;
  int garbage_next_connects = 0;
  // The next `count` connect replies that carry at least one event are cut after `after_bytes`
  // bytes of the body: the events in them are gone from the session's queue, as when a proxy or
  // a network break cuts a real reply (the client sees a transfer closed early).
  struct CutNextConnects {
    int count = 0;
    std::size_t after_bytes = 0;
  };
  CutNextConnects cut_next_connects;
  std::vector<std::string> connect_reply_extra;  // raw JSON messages for the next connect reply
  // Queued events ride on every reply to a client (a subscribe reply, say), as CometD servers
  // send them, not only on connect replies. Initially --deliver-on-any-reply.
  bool deliver_on_any_reply = false;
  // Pub/Sub API: the next N Subscribe calls fail as if their replay ID were corrupted
  // (sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted), whatever they ask for.
  int pubsub_corrupt_next_subscribes = 0;
};

struct Stats {
  std::map<std::string, std::map<int, std::uint64_t>> requests;  // "POST /cometd" -> status -> n
  std::map<std::string, std::uint64_t> bayeux;                   // "/meta/connect" -> n
  std::uint64_t events_delivered = 0;
  std::uint64_t events_injected = 0;
  std::uint64_t events_published = 0;
  std::uint64_t tokens_issued = 0;
  std::uint64_t sessions_created = 0;
  std::uint64_t sessions_forgotten = 0;
  std::uint64_t pubsub_events_delivered = 0;  // events written into Subscribe responses
  std::uint64_t pubsub_events_published = 0;  // events accepted by Publish and PublishStream
  std::uint64_t pubsub_streams_reset = 0;     // streams ended by the reset_pubsub_streams fault
};

// The whole state of the emulated org behind one mutex. Every operation under the lock is short
// (map lookups, pointer copies); event JSON is built outside it, only the replay id is appended
// under it. `changed` is notified whenever
// something a waiting long poll cares about happens: an append, a dropped session, expired
// tokens, shutdown.
struct Org {
  Org(Options options, EventTypes types);

  const Options options;
  const EventTypes types;
  std::string base_url;  // set once the port is known
  Ids ids;

  std::mutex mutex;
  std::condition_variable changed;
  EventBus bus;
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions;
  std::unordered_set<std::string> issued_tokens;
  std::map<std::string, std::vector<std::string>> published;  // event type -> fields JSON
  Faults faults;
  Stats stats;
  Allocations allocations;  // the limits resource; reset and roll over by /_emulator/limits
  std::uint64_t inject_counter = 0;  // the {n} template value
  // The org's ID, in every token's identity URL (`id`). Stable for a run; the refresh_org fault
  // (a sandbox refresh) replaces it.
  std::string org_id = "00Dxx0000001gPLEAY";
  std::uint64_t org_refreshes = 0;
  int connects_in_flight = 0;
  // Pub/Sub API streams (pubsub_server.cpp): open now, and a generation that the
  // reset_pubsub_streams fault and /_emulator/reset bump to end every open stream.
  int pubsub_streams_open = 0;
  std::uint64_t pubsub_generation = 0;
  bool stopping = false;

  // Caller holds `mutex`.
  bool token_valid(const std::string& token) const;
  // Caller holds `mutex`. Looks a client up, forgetting it first when its window has passed.
  std::shared_ptr<Session> find_session(const std::string& client_id, Clock::time_point now);
  void drop_all_sessions();  // caller holds `mutex`; notify `changed` afterwards
  // A sandbox refresh: a new org ID, every channel's events gone (replay IDs start low again),
  // sessions dropped and issued tokens expired. Caller holds `mutex`; notify `changed` afterwards.
  void refresh();

  // Locks; wakes every long poll and makes new ones return at once.
  void shutdown();
};

// "Bearer X" or "OAuth X" -> X, the scheme matched case-insensitively (HTTP auth schemes are;
// jsforce-era clients send "OAuth"); empty when absent or another scheme.
std::string bearer_token(const std::string& authorization_header);

}  // namespace sfkb::emulator
