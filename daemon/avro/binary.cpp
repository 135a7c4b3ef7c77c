#include "daemon/avro/binary.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "daemon/avro/utf8.h"

namespace sfkb::avro {
namespace {

core::Error invalid(std::string message) {
  return {core::ErrorKind::kInvalidInput, "Avro payload: " + std::move(message)};
}

class Reader {
 public:
  Reader(const Schema& schema, std::string_view bytes)
      : schema_(schema),
        bytes_(bytes),
        // Every value but a null, an empty record or a zero-size fixed takes at least one byte;
        // the slack covers those, so an array of a billion nulls in five bytes is refused
        // instead of filling the memory.
        budget_(bytes.size() * 2 + 4096) {}

  core::Result<Value> read_root() {
    Value value;
    if (auto status = read(schema_.root(), value, 1); !status) {
      return status.error();
    }
    if (pos_ != bytes_.size()) {
      return invalid(std::to_string(bytes_.size() - pos_) +
                     " bytes left over after the record (at offset " + std::to_string(pos_) +
                     "): the payload does not match the schema");
    }
    return value;
  }

 private:
  core::Error at(const std::string& what) const {
    return invalid(what + " at offset " + std::to_string(pos_));
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

  core::Status take(std::size_t count, std::string& out, const char* what) {
    if (count > bytes_.size() - pos_) {
      return at(std::string("truncated input: ") + what + " ends early");
    }
    out.assign(bytes_.data() + pos_, count);
    pos_ += count;
    return {};
  }

  core::Status spend() {
    if (budget_ == 0) {
      return at("more values than an input of this size can hold");
    }
    --budget_;
    return {};
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

  core::Status read(NodeId id, Value& out, int depth) {
    if (depth > kMaxDepth) {
      return at("values nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    if (auto status = spend(); !status) {
      return status;
    }
    const Node& node = schema_.node(id);
    out.node = id;
    switch (node.type) {
      case Type::kNull:
        return {};
      case Type::kBoolean: {
        if (pos_ >= bytes_.size()) {
          return at("truncated input: a boolean ends early");
        }
        const auto byte = static_cast<std::uint8_t>(bytes_[pos_]);
        if (byte > 1) {
          return at("a boolean byte is " + std::to_string(byte) + ", not 0 or 1");
        }
        ++pos_;
        out.boolean = byte == 1;
        return {};
      }
      case Type::kInt: {
        if (auto status = read_long(out.integer, "an int"); !status) {
          return status;
        }
        if (out.integer < std::numeric_limits<std::int32_t>::min() ||
            out.integer > std::numeric_limits<std::int32_t>::max()) {
          return at("an int does not fit 32 bits");
        }
        return {};
      }
      case Type::kLong:
        return read_long(out.integer, "a long");
      case Type::kFloat: {
        std::string raw;
        if (auto status = take(4, raw, "a float"); !status) {
          return status;
        }
        std::uint32_t bits = 0;
        for (int i = 3; i >= 0; --i) {
          bits = (bits << 8) | static_cast<std::uint8_t>(raw[static_cast<std::size_t>(i)]);
        }
        out.real = std::bit_cast<float>(bits);
        return {};
      }
      case Type::kDouble: {
        std::string raw;
        if (auto status = take(8, raw, "a double"); !status) {
          return status;
        }
        std::uint64_t bits = 0;
        for (int i = 7; i >= 0; --i) {
          bits = (bits << 8) | static_cast<std::uint8_t>(raw[static_cast<std::size_t>(i)]);
        }
        out.real = std::bit_cast<double>(bits);
        return {};
      }
      case Type::kBytes:
      case Type::kString: {
        const char* what = node.type == Type::kString ? "a string's length" : "a bytes' length";
        std::size_t length = 0;
        if (auto status = read_length(length, what); !status) {
          return status;
        }
        if (auto status = take(length, out.text, what); !status) {
          return status;
        }
        if (node.type == Type::kString && !valid_utf8(out.text)) {
          return invalid("a string ending at offset " + std::to_string(pos_) +
                         " is not valid UTF-8");
        }
        return {};
      }
      case Type::kFixed:
        return take(node.size, out.text, "a fixed");
      case Type::kEnum: {
        std::int64_t index = 0;
        if (auto status = read_long(index, "an enum index"); !status) {
          return status;
        }
        if (index < 0 || static_cast<std::uint64_t>(index) >= node.symbols.size()) {
          return at("enum " + node.name + " has no symbol number " + std::to_string(index));
        }
        out.index = static_cast<std::size_t>(index);
        out.text = node.symbols[out.index];
        return {};
      }
      case Type::kUnion: {
        std::int64_t index = 0;
        if (auto status = read_long(index, "a union index"); !status) {
          return status;
        }
        if (index < 0 || static_cast<std::uint64_t>(index) >= node.branches.size()) {
          return at("wrong union index " + std::to_string(index) + " (the union has " +
                    std::to_string(node.branches.size()) + " branches)");
        }
        out.index = static_cast<std::size_t>(index);
        out.children.resize(1);
        return read(node.branches[out.index], out.children[0], depth + 1);
      }
      case Type::kRecord: {
        out.children.resize(node.fields.size());
        for (std::size_t i = 0; i < node.fields.size(); ++i) {
          // The node table may grow no more, but `node` is re-fetched for clarity of lifetime.
          const NodeId field_type = schema_.node(id).fields[i].type;
          if (auto status = read(field_type, out.children[i], depth + 1); !status) {
            return status;
          }
        }
        return {};
      }
      case Type::kArray:
        return read_blocks(
            [&]() -> core::Status {
              out.children.emplace_back();
              return read(node.items, out.children.back(), depth + 1);
            },
            "an array block count");
      case Type::kMap:
        return read_blocks(
            [&]() -> core::Status {
              if (auto status = spend(); !status) {
                return status;
              }
              std::size_t length = 0;
              if (auto status = read_length(length, "a map key's length"); !status) {
                return status;
              }
              std::string key;
              if (auto status = take(length, key, "a map key"); !status) {
                return status;
              }
              if (!valid_utf8(key)) {
                return at("a map key is not valid UTF-8");
              }
              out.keys.push_back(std::move(key));
              out.children.emplace_back();
              return read(node.items, out.children.back(), depth + 1);
            },
            "a map block count");
    }
    return at("unknown schema node");
  }

  const Schema& schema_;
  std::string_view bytes_;
  std::size_t pos_ = 0;
  std::size_t budget_;
};

void write_long(std::string& out, std::int64_t value) {
  auto raw = (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
  while (raw >= 0x80) {
    out.push_back(static_cast<char>((raw & 0x7F) | 0x80));
    raw >>= 7;
  }
  out.push_back(static_cast<char>(raw));
}

void write_bytes(std::string& out, std::string_view bytes) {
  write_long(out, static_cast<std::int64_t>(bytes.size()));
  out.append(bytes);
}

template <typename T>
void write_little_endian(std::string& out, T bits) {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
  }
}

core::Status write(const Schema& schema, const Value& value, NodeId expected, std::string& out,
                   int depth) {
  if (depth > kMaxDepth) {
    return invalid("values nested deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  if (value.node != expected) {
    return invalid(std::string("a value of type ") + to_string(schema.node(value.node).type) +
                   " where the schema has " + to_string(schema.node(expected).type));
  }
  const Node& node = schema.node(expected);
  switch (node.type) {
    case Type::kNull:
      return {};
    case Type::kBoolean:
      out.push_back(value.boolean ? 1 : 0);
      return {};
    case Type::kInt:
      if (value.integer < std::numeric_limits<std::int32_t>::min() ||
          value.integer > std::numeric_limits<std::int32_t>::max()) {
        return invalid(std::to_string(value.integer) + " does not fit an int");
      }
      write_long(out, value.integer);
      return {};
    case Type::kLong:
      write_long(out, value.integer);
      return {};
    case Type::kFloat:
      // A double beyond float's range has no float (and converting it is undefined).
      if (std::isfinite(value.real) && std::abs(value.real) > std::numeric_limits<float>::max()) {
        return invalid(std::to_string(value.real) + " does not fit a float");
      }
      write_little_endian(out, std::bit_cast<std::uint32_t>(static_cast<float>(value.real)));
      return {};
    case Type::kDouble:
      write_little_endian(out, std::bit_cast<std::uint64_t>(value.real));
      return {};
    case Type::kBytes:
    case Type::kString:
      write_bytes(out, value.text);
      return {};
    case Type::kFixed:
      if (value.text.size() != node.size) {
        return invalid("fixed " + node.name + " needs " + std::to_string(node.size) +
                       " bytes, not " + std::to_string(value.text.size()));
      }
      out.append(value.text);
      return {};
    case Type::kEnum:
      if (value.index >= node.symbols.size()) {
        return invalid("enum " + node.name + " has no symbol number " +
                       std::to_string(value.index));
      }
      write_long(out, static_cast<std::int64_t>(value.index));
      return {};
    case Type::kUnion:
      if (value.index >= node.branches.size() || value.children.size() != 1) {
        return invalid("wrong union index " + std::to_string(value.index));
      }
      write_long(out, static_cast<std::int64_t>(value.index));
      return write(schema, value.children[0], node.branches[value.index], out, depth + 1);
    case Type::kRecord:
      if (value.children.size() != node.fields.size()) {
        return invalid("record " + node.name + " needs " + std::to_string(node.fields.size()) +
                       " fields, the value has " + std::to_string(value.children.size()));
      }
      for (std::size_t i = 0; i < node.fields.size(); ++i) {
        if (auto status = write(schema, value.children[i], node.fields[i].type, out, depth + 1);
            !status) {
          return status;
        }
      }
      return {};
    case Type::kArray:
    case Type::kMap:
      if (node.type == Type::kMap && value.keys.size() != value.children.size()) {
        return invalid("a map with " + std::to_string(value.keys.size()) + " keys and " +
                       std::to_string(value.children.size()) + " values");
      }
      // One block holding every item, then the end marker.
      if (!value.children.empty()) {
        write_long(out, static_cast<std::int64_t>(value.children.size()));
        for (std::size_t i = 0; i < value.children.size(); ++i) {
          if (node.type == Type::kMap) {
            write_bytes(out, value.keys[i]);
          }
          if (auto status = write(schema, value.children[i], node.items, out, depth + 1); !status) {
            return status;
          }
        }
      }
      write_long(out, 0);
      return {};
  }
  return invalid("unknown schema node");
}

}  // namespace

core::Result<Value> decode(const Schema& schema, std::string_view bytes) {
  return Reader(schema, bytes).read_root();
}

core::Result<std::string> encode(const Schema& schema, const Value& value) {
  std::string out;
  if (value.node >= schema.size()) {
    return invalid("a value of another schema");
  }
  if (auto status = write(schema, value, schema.root(), out, 1); !status) {
    return status.error();
  }
  return out;
}

}  // namespace sfkb::avro
