#pragma once
// A source's position in a channel's event stream (docs/ARCHITECTURE.md, "Positions").
//
// Lives in core, the bottom layer, because a position is shared vocabulary of layers that must not
// depend on each other: the source that reads it (salesforce/), the checkpoint logic that stores
// and reconciles it (checkpoint/), and the pipeline that deduplicates, tags and writes it into
// record headers (pipeline/).
//
// Two kinds exist:
//  - CometD (the Streaming API): a signed 64-bit number. Salesforce numbers a channel's events
//    in increasing order, and the replay extension reserves -1 and -2 as presets (below).
//  - opaque: bytes whose meaning only the source knows (the Pub/Sub API's replay IDs). Their
//    order is the unsigned lexicographic order of the bytes, which is the numeric order of the
//    fixed-width big-endian numbers such sources hand out.
// Positions of different kinds never meet in a correct program (a channel has one source):
// ordering them throws std::logic_error instead of answering false; equality says "different".
// The presets are the exception: CometD's -1 and -2 stand for "latest" and "earliest" whatever the
// source, and sort below every event of either kind (a restarted channel starts at one).

#include <compare>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "daemon/core/result.h"

namespace sfkb::core {

// Where a subscription starts when there is no position to resume after.
enum class ReplayPreset {
  kLatest,    // new events only: those published after the subscription
  kEarliest,  // every event the org still retains
};
// "new events only" / "every retained event", for log lines.
const char* describe(ReplayPreset preset);

// CometD's numbers for the presets in the replay extension - the only place they are spelled.
inline constexpr std::int64_t kCometdLatest = -1;
inline constexpr std::int64_t kCometdEarliest = -2;

class ReplayId {
 public:
  enum class Kind : std::uint8_t { kCometd, kOpaque };

  // CometD 0: the default of the structs that carry a position, not a position of its own.
  ReplayId() = default;
  static ReplayId cometd(std::int64_t number) { return ReplayId(Value(number)); }
  static ReplayId cometd(ReplayPreset preset) {
    return cometd(preset == ReplayPreset::kLatest ? kCometdLatest : kCometdEarliest);
  }
  static ReplayId opaque(std::string bytes) { return ReplayId(Value(std::move(bytes))); }

  Kind kind() const { return value_.index() == 0 ? Kind::kCometd : Kind::kOpaque; }
  bool is_cometd() const { return kind() == Kind::kCometd; }
  // CometD's number; throws std::logic_error for an opaque position.
  std::int64_t number() const;
  // The opaque bytes; throws std::logic_error for a CometD position.
  const std::string& bytes() const;
  // The preset a CometD position spells (-1, -2); nullopt for any other position.
  std::optional<ReplayPreset> preset() const;
  // True when the position names an event: an opaque one, or a CometD number >= 0 (not a preset).
  bool names_event() const;

  // The text form used in logs, the sf.replay_id header, record keys and the checkpoint file:
  // CometD's decimal number (exactly std::to_string), or the opaque bytes in base64 (RFC 4648,
  // standard alphabet, padded).
  std::string text() const;
  // The inverse of text() for a position of `kind`: the whole text must be a decimal int64
  // (CometD) or padded base64 (opaque). kInvalidInput naming what is wrong otherwise.
  static Result<ReplayId> parse(Kind kind, std::string_view text);

  friend bool operator==(const ReplayId&, const ReplayId&) = default;
  // The source's order; throws std::logic_error when the kinds differ, unless one is a preset.
  friend std::strong_ordering operator<=>(const ReplayId& a, const ReplayId& b);

 private:
  using Value = std::variant<std::int64_t, std::string>;
  explicit ReplayId(Value value) : value_(std::move(value)) {}
  Value value_ = std::int64_t{0};
};

const char* to_string(ReplayId::Kind kind);  // "cometd" / "opaque"
// text(), for test failure messages.
std::ostream& operator<<(std::ostream& out, const ReplayId& id);

}  // namespace sfkb::core
