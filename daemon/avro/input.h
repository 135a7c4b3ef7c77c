#pragma once
// The checked reading of Avro binary primitives that both decoders share: decode() (binary.h),
// which builds a Value tree, and transcode_to_json() (json.h), which writes JSON text straight
// from the bytes. One implementation, so that both accept exactly the same inputs and refuse the
// rest with the same messages. Internal to daemon/avro.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "daemon/avro/schema.h"
#include "daemon/avro/utf8.h"
#include "daemon/core/result.h"

namespace sfkb::avro::detail {

inline core::Error invalid_payload(std::string message) {
  return {core::ErrorKind::kInvalidInput, "Avro payload: " + std::move(message)};
}

class Input {
 public:
  explicit Input(std::string_view bytes)
      : bytes_(bytes),
        // Every value but a null, an empty record or a zero-size fixed takes at least one byte;
        // the slack covers those, so an array of a billion nulls in five bytes is refused
        // instead of filling the memory.
        budget_(bytes.size() * 2 + 4096) {}

  std::size_t pos() const { return pos_; }

  core::Error at(const std::string& what) const {
    return invalid_payload(what + " at offset " + std::to_string(pos_));
  }

  // Before each value: bounds its nesting and the number of values.
  core::Status enter(int depth) {
    if (depth > kMaxDepth) {
      return at("values nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    return spend();
  }

  core::Status spend() {
    if (budget_ == 0) {
      return at("more values than an input of this size can hold");
    }
    --budget_;
    return {};
  }

  core::Status read_long(std::int64_t& out, const char* what) {
    std::uint64_t raw = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos_ >= bytes_.size()) {
        return at(std::string("truncated input: ") + what + " ends early");
      }
      const auto byte = static_cast<std::uint8_t>(bytes_[pos_++]);
      if (shift == 63 && (byte & 0x7E) != 0) {
        return at(std::string(what) + " does not fit 64 bits");
      }
      raw |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) {
        // zig-zag: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ...
        out = static_cast<std::int64_t>(raw >> 1) ^ -static_cast<std::int64_t>(raw & 1);
        return {};
      }
    }
    return at(std::string(what) + " is longer than ten bytes");
  }

  core::Status read_int(std::int64_t& out) {
    if (auto status = read_long(out, "an int"); !status) {
      return status;
    }
    if (out < std::numeric_limits<std::int32_t>::min() ||
        out > std::numeric_limits<std::int32_t>::max()) {
      return at("an int does not fit 32 bits");
    }
    return {};
  }

  core::Status read_boolean(bool& out) {
    if (pos_ >= bytes_.size()) {
      return at("truncated input: a boolean ends early");
    }
    const auto byte = static_cast<std::uint8_t>(bytes_[pos_]);
    if (byte > 1) {
      return at("a boolean byte is " + std::to_string(byte) + ", not 0 or 1");
    }
    ++pos_;
    out = byte == 1;
    return {};
  }

  // Little-endian IEEE 754: 4 bytes for a float, 8 for a double.
  core::Status read_real(Type type, double& out) {
    const bool is_float = type == Type::kFloat;
    std::string_view raw;
    if (auto status = take(is_float ? 4 : 8, raw, is_float ? "a float" : "a double"); !status) {
      return status;
    }
    std::uint64_t bits = 0;
    for (std::size_t i = raw.size(); i-- > 0;) {
      bits = (bits << 8) | static_cast<std::uint8_t>(raw[i]);
    }
    out = is_float ? static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits)))
                   : std::bit_cast<double>(bits);
    return {};
  }

  core::Status read_length(std::size_t& out, const char* what) {
    std::int64_t length = 0;
    if (auto status = read_long(length, what); !status) {
      return status;
    }
    if (length < 0) {
      return at(std::string(what) + " is negative (" + std::to_string(length) + ")");
    }
    if (static_cast<std::uint64_t>(length) > bytes_.size() - pos_) {
      return at("truncated input: " + std::string(what) + " says " + std::to_string(length) +
                " bytes, " + std::to_string(bytes_.size() - pos_) + " are left");
    }
    out = static_cast<std::size_t>(length);
    return {};
  }

  core::Status take(std::size_t count, std::string_view& out, const char* what) {
    if (count > bytes_.size() - pos_) {
      return at(std::string("truncated input: ") + what + " ends early");
    }
    out = bytes_.substr(pos_, count);
    pos_ += count;
    return {};
  }

  // A string's or bytes' length and bytes (a string's checked to be UTF-8).
  core::Status read_text(Type type, std::string_view& out) {
    const char* what = type == Type::kString ? "a string's length" : "a bytes' length";
    std::size_t length = 0;
    if (auto status = read_length(length, what); !status) {
      return status;
    }
    if (auto status = take(length, out, what); !status) {
      return status;
    }
    if (type == Type::kString && !valid_utf8(out)) {
      return invalid_payload("a string ending at offset " + std::to_string(pos_) +
                             " is not valid UTF-8");
    }
    return {};
  }

  core::Status read_map_key(std::string_view& out) {
    if (auto status = spend(); !status) {
      return status;
    }
    std::size_t length = 0;
    if (auto status = read_length(length, "a map key's length"); !status) {
      return status;
    }
    if (auto status = take(length, out, "a map key"); !status) {
      return status;
    }
    if (!valid_utf8(out)) {
      return at("a map key is not valid UTF-8");
    }
    return {};
  }

  // An enum's symbol position or a union's branch: below the count of symbols or branches.
  core::Status read_enum(const Node& node, std::size_t& out) {
    return read_index("an enum index", node.symbols.size(), out, [&](std::int64_t index) {
      return "enum " + node.name + " has no symbol number " + std::to_string(index);
    });
  }

  core::Status read_branch(const Node& node, std::size_t& out) {
    return read_index("a union index", node.branches.size(), out, [&](std::int64_t index) {
      return "wrong union index " + std::to_string(index) + " (the union has " +
             std::to_string(node.branches.size()) + " branches)";
    });
  }

  // Block-encoded arrays and maps: counts until a zero count; a negative count is followed by
  // the block's size in bytes (which is only skipped over here).
  template <typename ReadItem>
  core::Status read_blocks(ReadItem read_item, const char* what) {
    while (true) {
      std::int64_t count = 0;
      if (auto status = read_long(count, what); !status) {
        return status;
      }
      if (count == 0) {
        return {};
      }
      if (count < 0) {
        if (count == std::numeric_limits<std::int64_t>::min()) {
          return at(std::string(what) + " block count out of range");
        }
        count = -count;
        std::int64_t size = 0;
        if (auto status = read_long(size, "block size"); !status) {
          return status;
        }
        if (size < 0) {
          return at(std::string(what) + " block size is negative");
        }
      }
      for (std::int64_t i = 0; i < count; ++i) {
        if (auto status = read_item(); !status) {
          return status;
        }
      }
    }
  }

  // After the root value: the whole input must be used (trailing bytes mean the payload belongs
  // to another schema).
  core::Status finish() const {
    if (pos_ != bytes_.size()) {
      return invalid_payload(std::to_string(bytes_.size() - pos_) +
                             " bytes left over after the record (at offset " +
                             std::to_string(pos_) + "): the payload does not match the schema");
    }
    return {};
  }

 private:
  template <typename Refusal>
  core::Status read_index(const char* what, std::size_t count, std::size_t& out, Refusal refusal) {
    std::int64_t index = 0;
    if (auto status = read_long(index, what); !status) {
      return status;
    }
    if (index < 0 || static_cast<std::uint64_t>(index) >= count) {
      return at(refusal(index));
    }
    out = static_cast<std::size_t>(index);
    return {};
  }

  std::string_view bytes_;
  std::size_t pos_ = 0;
  std::size_t budget_;
};

}  // namespace sfkb::avro::detail
