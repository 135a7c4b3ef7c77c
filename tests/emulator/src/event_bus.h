#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sfkb::emulator {

// One retained event: its replay id and its complete CometD message, serialized once at append
// time so that every delivery only splices the shared string into a connect reply.
struct StoredEvent {
  std::int64_t replay_id;
  std::shared_ptr<const std::string> json;
};

// The org's event logs: one ordered log per channel with Salesforce's replay semantics.
// Not thread-safe: the owner (Org) serializes access with its mutex.
class EventBus {
 public:
  EventBus(std::size_t retention, std::uint64_t seed);

  // Appends one event per prefix. A prefix is the message JSON up to and including
  // `"replayId":`; the bus assigns increasing replay ids with random gaps of 1..5 (replay ids are
  // opaque in Salesforce and clients must not compute them) and closes the JSON.
  // Returns the first and last replay id assigned. `prefixes` must not be empty; its strings are
  // completed in place and moved into the log (no copy of the event bodies).
  std::pair<std::int64_t, std::int64_t> append(const std::string& channel,
                                               std::vector<std::string> prefixes);

  // Turns a subscribe replay value into a cursor: the replay id after which delivery starts.
  // -1: only new events; -2: every retained event; N: every event after N. nullopt when N is
  // invalid: below the retained window (events after N were dropped), above the newest replay id
  // ever assigned, or another negative value.
  std::optional<std::int64_t> cursor_for(const std::string& channel, std::int64_t replay) const;

  // Appends to `out` the events after `*cursor`, at most `max_events` and roughly `byte_budget`
  // bytes (at least one event when any is pending), and advances the cursor. Returns the count.
  std::size_t collect(const std::string& channel, std::int64_t& cursor, std::size_t max_events,
                      std::size_t& byte_budget, std::vector<StoredEvent>& out) const;
  bool has_events_after(const std::string& channel, std::int64_t cursor) const;

  bool exists(const std::string& channel) const { return logs_.count(channel) != 0; }
  void set_retention(std::size_t retention);
  std::size_t retention() const { return retention_; }
  void clear();

  struct ChannelStats {
    std::string channel;
    std::size_t retained = 0;
    std::int64_t oldest_replay_id = 0;
    std::int64_t newest_replay_id = 0;
    std::int64_t last_dropped_replay_id = 0;
  };
  std::vector<ChannelStats> stats() const;

 private:
  struct Log {
    std::deque<StoredEvent> events;
    std::int64_t last_assigned = 0;
    std::int64_t last_dropped = 0;  // replay id of the newest event retention removed, 0 if none
  };
  void trim(Log& log);

  std::size_t retention_;
  std::mt19937_64 rng_;
  std::unordered_map<std::string, Log> logs_;
};

}  // namespace sfkb::emulator
