#include "daemon/core/replay_id.h"

#include <charconv>
#include <ostream>
#include <stdexcept>

namespace sfkb::core {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<std::uint8_t>(bytes[i]) << 16) |
                            (static_cast<std::uint8_t>(bytes[i + 1]) << 8) |
                            static_cast<std::uint8_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const std::size_t left = bytes.size() - i;
  if (left > 0) {
    std::uint32_t n = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (left == 2) {
      n |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    }
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += left == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

// Strict: padded, standard alphabet, no whitespace, zero unused bits (so text() round-trips).
std::optional<std::string> unbase64(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (pad == 1 && text[i + 2] == '=') {
      return std::nullopt;  // "x=y=" style
    }
    std::uint32_t n = 0;
    for (std::size_t j = 0; j < 4 - pad; ++j) {
      const int v = sextet(text[i + j]);
      if (v < 0) {
        return std::nullopt;
      }
      n |= static_cast<std::uint32_t>(v) << (18 - 6 * j);
    }
    out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) {
      out += static_cast<char>((n >> 8) & 0xff);
    }
    if (pad < 1) {
      out += static_cast<char>(n & 0xff);
    }
    if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0)) {
      return std::nullopt;  // bits that text() would never set
    }
  }
  return out;
}

[[noreturn]] void wrong_kind(const char* what, ReplayId::Kind kind) {
  throw std::logic_error(std::string("replay ID: ") + what + " of a " + to_string(kind) +
                         " position");
}

Error invalid(std::string message) {
  return {ErrorKind::kInvalidInput, std::move(message)};
}

}  // namespace

const char* describe(ReplayPreset preset) {
  return preset == ReplayPreset::kLatest ? "new events only" : "every retained event";
}

const char* to_string(ReplayId::Kind kind) {
  return kind == ReplayId::Kind::kCometd ? "cometd" : "opaque";
}

std::int64_t ReplayId::number() const {
  if (const auto* n = std::get_if<std::int64_t>(&value_)) {
    return *n;
  }
  wrong_kind("number()", kind());
}

const std::string& ReplayId::bytes() const {
  if (const auto* b = std::get_if<std::string>(&value_)) {
    return *b;
  }
  wrong_kind("bytes()", kind());
}

std::optional<ReplayPreset> ReplayId::preset() const {
  if (const auto* n = std::get_if<std::int64_t>(&value_)) {
    if (*n == kCometdLatest) {
      return ReplayPreset::kLatest;
    }
    if (*n == kCometdEarliest) {
      return ReplayPreset::kEarliest;
    }
  }
  return std::nullopt;
}

bool ReplayId::names_event() const {
  const auto* n = std::get_if<std::int64_t>(&value_);
  return n == nullptr || *n >= 0;
}

std::string ReplayId::text() const {
  if (const auto* n = std::get_if<std::int64_t>(&value_)) {
    return std::to_string(*n);
  }
  return base64(std::get<std::string>(value_));
}

Result<ReplayId> ReplayId::parse(Kind kind, std::string_view text) {
  if (kind == Kind::kCometd) {
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec == std::errc::invalid_argument || ptr != end) {
      return invalid("a CometD replay ID is a decimal integer, got \"" + std::string(text) + "\"");
    }
    if (ec == std::errc::result_out_of_range) {
      return invalid("the CometD replay ID \"" + std::string(text) +
                     "\" is out of the 64-bit range");
    }
    return cometd(value);
  }
  auto bytes = unbase64(text);
  if (!bytes) {
    return invalid("an opaque replay ID is padded base64, got \"" + std::string(text) + "\"");
  }
  return opaque(std::move(*bytes));
}

std::strong_ordering operator<=>(const ReplayId& a, const ReplayId& b) {
  const auto* x = std::get_if<std::int64_t>(&a.value_);
  const auto* y = std::get_if<std::int64_t>(&b.value_);
  if (x != nullptr && y != nullptr) {
    return *x <=> *y;
  }
  if ((x == nullptr) != (y == nullptr)) {
    // A preset is a start, not a position of either kind: it sorts below every event, opaque ones
    // too (a restarted Pub/Sub channel's watermark starts at its fallback preset).
    if (x != nullptr && a.preset()) {
      return std::strong_ordering::less;
    }
    if (y != nullptr && b.preset()) {
      return std::strong_ordering::greater;
    }
    throw std::logic_error(std::string("replay ID: a ") + to_string(a.kind()) +
                           " position compared with a " + to_string(b.kind()) + " one");
  }
  // std::string compares as unsigned bytes (char_traits<char>::compare is memcmp-like).
  const int c = std::get<std::string>(a.value_).compare(std::get<std::string>(b.value_));
  return c < 0 ? std::strong_ordering::less
               : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
}

std::ostream& operator<<(std::ostream& out, const ReplayId& id) {
  return out << id.text();
}

}  // namespace sfkb::core
