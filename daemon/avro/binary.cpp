#include "daemon/avro/binary.h"

#include <bit>
#include <cmath>
#include <limits>

#include "daemon/avro/input.h"

namespace sfkb::avro {
namespace {

core::Error invalid(std::string message) {
  return detail::invalid_payload(std::move(message));
}

class Reader {
 public:
  Reader(const Schema& schema, std::string_view bytes) : schema_(schema), in_(bytes) {}

  core::Result<Value> read_root() {
    Value value;
    if (auto status = read(schema_.root(), value, 1); !status) {
      return status.error();
    }
    if (auto status = in_.finish(); !status) {
      return status.error();
    }
    return value;
  }

 private:
  core::Status read(NodeId id, Value& out, int depth) {
    if (auto status = in_.enter(depth); !status) {
      return status;
    }
    const Node& node = schema_.node(id);
    out.node = id;
    std::string_view text;
    switch (node.type) {
      case Type::kNull:
        return {};
      case Type::kBoolean:
        return in_.read_boolean(out.boolean);
      case Type::kInt:
        return in_.read_int(out.integer);
      case Type::kLong:
        return in_.read_long(out.integer, "a long");
      case Type::kFloat:
      case Type::kDouble:
        return in_.read_real(node.type, out.real);
      case Type::kBytes:
      case Type::kString:
        if (auto status = in_.read_text(node.type, text); !status) {
          return status;
        }
        out.text.assign(text);
        return {};
      case Type::kFixed:
        if (auto status = in_.take(node.size, text, "a fixed"); !status) {
          return status;
        }
        out.text.assign(text);
        return {};
      case Type::kEnum:
        if (auto status = in_.read_enum(node, out.index); !status) {
          return status;
        }
        out.text = node.symbols[out.index];
        return {};
      case Type::kUnion:
        if (auto status = in_.read_branch(node, out.index); !status) {
          return status;
        }
        out.children.resize(1);
        return read(node.branches[out.index], out.children[0], depth + 1);
      case Type::kRecord: {
        out.children.resize(node.fields.size());
        for (std::size_t i = 0; i < node.fields.size(); ++i) {
          if (auto status = read(node.fields[i].type, out.children[i], depth + 1); !status) {
            return status;
          }
        }
        return {};
      }
      case Type::kArray:
        return in_.read_blocks(
            [&]() -> core::Status {
              out.children.emplace_back();
              return read(node.items, out.children.back(), depth + 1);
            },
            "an array block count");
      case Type::kMap:
        return in_.read_blocks(
            [&]() -> core::Status {
              if (auto status = in_.read_map_key(text); !status) {
                return status;
              }
              out.keys.emplace_back(text);
              out.children.emplace_back();
              return read(node.items, out.children.back(), depth + 1);
            },
            "a map block count");
    }
    return in_.at("unknown schema node");
  }

  const Schema& schema_;
  detail::Input in_;
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
