#include "ids.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <vector>

namespace sfkb::emulator {
namespace {

constexpr const char* kLowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr const char* kMixedAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr const char* kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string format_uuid(std::uint64_t hi, std::uint64_t lo) {
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  // By hand rather than snprintf: inject formats one per event and this is on its hot path.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  std::size_t at = 0;
  auto put = [&](std::uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      out[at++] = kHex[(v >> (4 * i)) & 0xF];
    }
  };
  put(hi >> 32, 8);
  ++at;
  put(hi >> 16, 4);
  ++at;
  put(hi, 4);
  ++at;
  put(lo >> 48, 4);
  ++at;
  put(lo, 12);
  return out;
}

}  // namespace

std::string Ids::uuid_v4() {
  std::lock_guard lock(mutex_);
  std::uint64_t hi = rng_();
  std::uint64_t lo = rng_();
  return format_uuid(hi, lo);
}

void Ids::uuids_v4(std::size_t n, std::vector<std::string>& out) {
  std::vector<std::uint64_t> raw(2 * n);
  {
    std::lock_guard lock(mutex_);
    for (auto& r : raw) {
      r = rng_();
    }
  }
  out.reserve(out.size() + n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(format_uuid(raw[2 * i], raw[2 * i + 1]));
  }
}

std::string Ids::alnum(std::size_t n, const char* alphabet) {
  std::string s;
  std::size_t size = std::char_traits<char>::length(alphabet);
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < n; ++i) {
    s += alphabet[rng_() % size];
  }
  return s;
}

std::string Ids::access_token() {
  return "00Dxx0000001gPL!AQ" + alnum(4, kMixedAlnum) + "." + alnum(96, kMixedAlnum);
}

std::string Ids::client_id() {
  return alnum(27, kLowerAlnum);
}

std::string Ids::browser_id() {
  return alnum(26, kLowerAlnum);
}

std::string Ids::record_id() {
  std::uint64_t n;
  {
    std::lock_guard lock(mutex_);
    n = ++record_counter_;
  }
  // 5-char key prefix + 10 base-62 digits + 3-char case-safe suffix = 18 characters.
  std::string digits(10, '0');
  for (int i = 9; i >= 0 && n > 0; --i) {
    digits[static_cast<std::size_t>(i)] = kMixedAlnum[n % 62];
    n /= 62;
  }
  return "e00xx" + digits + "AAA";
}

std::uint64_t Ids::next_u64() {
  std::lock_guard lock(mutex_);
  return rng_();
}

std::string iso_now_ms() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string schema_id_for(const std::string& definition) {
  // FNV-1a spread over 22 base64url characters: stable across runs, changes with the definition,
  // which is all a client may assume about Salesforce schema ids.
  std::uint64_t h = 1469598103934665603ULL;
  std::string out;
  for (int round = 0; round < 22; ++round) {
    for (char c : definition) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
    h ^= static_cast<std::uint64_t>(round);
    h *= 1099511628211ULL;
    out += kBase64Url[(h >> 17) % 64];
  }
  return out;
}

}  // namespace sfkb::emulator
