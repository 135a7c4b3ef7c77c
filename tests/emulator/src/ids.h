#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace sfkb::emulator {

// Random identifiers in Salesforce's shapes. Thread-safe; seeded so runs can be repeated.
class Ids {
 public:
  explicit Ids(std::uint64_t seed) : rng_(seed) {}

  std::string uuid_v4();
  // Fills `out` with `n` UUIDs under one lock acquisition (inject of large batches).
  void uuids_v4(std::size_t n, std::vector<std::string>& out);
  std::string access_token();  // "00D…!…", as Salesforce session ids look
  std::string client_id();     // CometD client id: 27 lowercase alphanumerics
  std::string browser_id();    // BAYEUX_BROWSER cookie value
  std::string record_id();     // "e00xx…" 18 chars, unique per emulator run
  std::uint64_t next_u64();

 private:
  std::string alnum(std::size_t n, const char* alphabet);

  std::mutex mutex_;
  std::mt19937_64 rng_;
  std::uint64_t record_counter_ = 0;
};

// ISO-8601 UTC with milliseconds, e.g. 2026-11-26T17:30:00.123Z (Salesforce's CreatedDate).
std::string iso_now_ms();
// A stable 22-character schema id derived from an event definition's text.
std::string schema_id_for(const std::string& definition);

}  // namespace sfkb::emulator
