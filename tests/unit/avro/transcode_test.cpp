// transcode_to_json() (the subscribe path's decoder, without a tree) against decode() + to_json()
// (the tree it replaces): random schemas of every type, random payloads of them - valid ones, and
// ones cut short, with a byte changed or one too many - must give the same JSON byte for byte, or
// both be refused as kInvalidInput.

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "daemon/avro/binary.h"
#include "daemon/avro/json.h"
#include "tests/support/seed.h"

namespace sfkb::avro {
namespace {

class Generator {
 public:
  explicit Generator(std::uint32_t seed) : random_(seed) {}

  std::int64_t pick(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(random_);
  }
  bool chance(int percent) { return pick(0, 99) < percent; }

  // ---- schemas ----

  std::string schema() {
    names_ = 0;
    return record(0);
  }

  // ---- payloads: Avro binary of a random value of `id`, as a writer would make it ----

  void value(const Schema& schema, NodeId id, int depth, std::string& out) {
    const Node& node = schema.node(id);
    switch (node.type) {
      case Type::kNull:
        return;
      case Type::kBoolean:
        out.push_back(static_cast<char>(pick(0, 1)));
        return;
      case Type::kInt:
        write_long(out, chance(50)   ? pick(-100, 100)
                        : chance(50) ? pick(-3'000'000, 3'000'000)  // dates: days; times: ms
                                     : pick(INT32_MIN, INT32_MAX));
        return;
      case Type::kLong:
        write_long(out, chance(40)   ? pick(-100, 100)
                        : chance(50) ? pick(-62'000'000'000'000, 253'000'000'000'000)  // 0000-9999
                                     : pick(INT64_MIN, INT64_MAX));
        return;
      case Type::kFloat: {
        const float f = chance(80)   ? static_cast<float>(pick(-100000, 100000)) / 64.0F
                        : chance(50) ? -0.0F
                                     : std::bit_cast<float>(static_cast<std::uint32_t>(
                                           pick(0, UINT32_MAX)));  // NaN and inf too
        append_little_endian(out, std::bit_cast<std::uint32_t>(f));
        return;
      }
      case Type::kDouble: {
        const double d =
            chance(60) ? static_cast<double>(pick(-1'000'000, 1'000'000)) / 1000.0
            : chance(30)
                ? 1e21 * static_cast<double>(pick(1, 9))
                : std::bit_cast<double>(static_cast<std::uint64_t>(pick(INT64_MIN, INT64_MAX)));
        append_little_endian(out, std::bit_cast<std::uint64_t>(d));
        return;
      }
      case Type::kBytes:
      case Type::kString:
        write_text(out, node.type == Type::kString ? text() : raw_bytes(pick(0, 6)));
        return;
      case Type::kFixed:
        out += raw_bytes(node.size);
        return;
      case Type::kEnum:
        write_long(out, pick(0, static_cast<std::int64_t>(node.symbols.size()) - 1));
        return;
      case Type::kUnion: {
        // Deep down, the null branch (a recursive record's way out).
        auto branch =
            static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(node.branches.size()) - 1));
        if (depth > 6) {
          branch = schema.branch_of(id, Type::kNull).value_or(branch);
        }
        write_long(out, static_cast<std::int64_t>(branch));
        value(schema, node.branches[branch], depth + 1, out);
        return;
      }
      case Type::kRecord:
        for (const Field& field : node.fields) {
          value(schema, field.type, depth + 1, out);
        }
        return;
      case Type::kArray:
      case Type::kMap: {
        const auto blocks = depth > 6 ? 0 : pick(0, 2);
        for (std::int64_t b = 0; b < blocks; ++b) {
          const auto count = pick(1, 3);
          std::string block;
          for (std::int64_t k = 0; k < count; ++k) {
            if (node.type == Type::kMap) {
              write_text(block, text());
            }
            value(schema, node.items, depth + 1, block);
          }
          if (chance(30)) {  // the form with the block's size in bytes
            write_long(out, -count);
            write_long(out, static_cast<std::int64_t>(block.size()));
          } else {
            write_long(out, count);
          }
          out += block;
        }
        write_long(out, 0);
        return;
      }
    }
  }

  // A valid payload, or one spoilt: cut short, a byte changed, a byte too many.
  std::string spoil(std::string payload) {
    const auto how = pick(0, 9);
    if (how == 0 && !payload.empty()) {
      payload.resize(
          static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(payload.size()) - 1)));
    } else if (how == 1 && !payload.empty()) {
      payload[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(payload.size()) - 1))] =
          static_cast<char>(pick(0, 255));
    } else if (how == 2) {
      payload.push_back(static_cast<char>(pick(0, 255)));
    }
    return payload;
  }

 private:
  static void write_long(std::string& out, std::int64_t value) {
    auto raw = (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
    while (raw >= 0x80) {
      out.push_back(static_cast<char>((raw & 0x7F) | 0x80));
      raw >>= 7;
    }
    out.push_back(static_cast<char>(raw));
  }
  static void write_text(std::string& out, const std::string& text) {
    write_long(out, static_cast<std::int64_t>(text.size()));
    out += text;
  }
  template <typename T>
  static void append_little_endian(std::string& out, T bits) {
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
    }
  }

  std::string raw_bytes(std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
      out.push_back(static_cast<char>(pick(0, 255)));
    }
    return out;
  }

  // Text with what JSON must escape, multi-byte UTF-8, and now and then a byte that is not UTF-8.
  std::string text() {
    static const char* const kPieces[] = {
        "a",  "Z",  "0",  " ",    "\"",   "\\",   "/",        "\n",           "\t",
        "\b", "\f", "\r", "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "x"};
    std::string out;
    for (auto n = pick(0, 8); n > 0; --n) {
      out += kPieces[pick(0, static_cast<std::int64_t>(std::size(kPieces)) - 1)];
    }
    if (chance(3)) {
      out.push_back('\xff');
    }
    if (chance(2)) {
      out.push_back('\0');
    }
    return out;
  }

  std::string name() { return "T" + std::to_string(++names_); }

  std::string primitive(bool temporal_ok) {
    static const char* const kPrimitives[] = {"null",  "boolean", "int",   "long",
                                              "float", "double",  "bytes", "string"};
    const std::string type = kPrimitives[pick(0, 7)];
    if (temporal_ok && (type == "int" || type == "long") && chance(30)) {
      static const char* const kLogical[] = {"timestamp-millis", "date", "time-millis"};
      return R"({"type":")" + type + R"(","logicalType":")" + kLogical[pick(0, 2)] + "\"}";
    }
    return "\"" + type + "\"";
  }

  std::string type(int depth, const std::string& enclosing) {
    const auto kind = depth > 3 ? 0 : pick(0, 9);
    switch (kind) {
      case 5:
        return record(depth);
      case 6:
        return R"({"type":"enum","name":")" + name() + R"(","symbols":["A","B_b","C"]})";
      case 7:
        return R"({"type":"fixed","name":")" + name() + R"(","size":)" +
               std::to_string(pick(0, 4)) + "}";
      case 8:
        return chance(50) ? R"({"type":"array","items":)" + type(depth + 1, enclosing) + "}"
                          : R"({"type":"map","values":)" + type(depth + 1, enclosing) + "}";
      case 9: {
        // A union of distinct kinds, perhaps with a named type (the record it is in: recursion).
        std::vector<std::string> branches;
        static const char* const kKinds[] = {"null", "boolean", "long", "double", "string"};
        for (const char* k : kKinds) {
          if (chance(40)) {
            branches.push_back(std::string("\"") + k + "\"");
          }
        }
        const bool nullable = !branches.empty() && branches[0] == "\"null\"";
        if (chance(50)) {
          // Recursion only where null offers a way out.
          branches.push_back(nullable && chance(30) ? "\"" + enclosing + "\"" : record(depth + 1));
        }
        if (branches.empty()) {
          branches.push_back("\"null\"");
        }
        std::string out = "[";
        for (std::size_t i = 0; i < branches.size(); ++i) {
          out += (i ? "," : "") + branches[i];
        }
        return out + "]";
      }
      default:
        return primitive(true);
    }
  }

  std::string record(int depth) {
    const std::string own = name();
    std::string out = R"({"type":"record","name":")" + own + R"(","fields":[)";
    for (auto i = 0, n = static_cast<int>(pick(0, 6)); i < n; ++i) {
      static const char* const kDocs[] = {"", "Data:DateTime", "Data:DateOnly", "Data:TimeOnly"};
      out += (i ? "," : "") + std::string(R"({"name":"f)") + std::to_string(i) + "\"";
      if (const char* doc = kDocs[chance(70) ? 0 : pick(1, 3)]; *doc != 0) {
        out += R"(,"doc":")" + std::string(doc) + "\"";
      }
      out += R"(,"type":)" + type(depth + 1, own) + "}";
    }
    return out + "]}";
  }

  std::mt19937 random_;
  int names_ = 0;
};

TEST(AvroTranscode, WritesWhatTheTreeWritesForRandomSchemasAndPayloads) {
  SCOPED_TRACE(test_support::seed_note());
  Generator generator(test_support::test_seed());
  int compared = 0;
  int refused = 0;
  for (int round = 0; round < 300; ++round) {
    const std::string text = generator.schema();
    SCOPED_TRACE(text);
    auto schema = Schema::parse(text);
    ASSERT_TRUE(schema.is_ok()) << schema.error().message;
    for (int k = 0; k < 20; ++k) {
      std::string payload;
      generator.value(*schema, schema->root(), 1, payload);
      payload = generator.spoil(std::move(payload));
      for (const bool omit_nulls : {false, true}) {
        const JsonOptions options{.omit_nulls = omit_nulls};
        auto tree = decode_to_json(*schema, payload, options);
        std::string streamed;
        auto status = transcode_to_json(*schema, payload, options, streamed);
        if (tree.is_ok()) {
          ASSERT_TRUE(status.is_ok()) << status.error().message;
          ASSERT_EQ(streamed, *tree);
          ++compared;
        } else {
          ASSERT_FALSE(status.is_ok()) << "the tree refused it: " << tree.error().message;
          EXPECT_EQ(status.error().kind, core::ErrorKind::kInvalidInput);
          EXPECT_EQ(tree.error().kind, core::ErrorKind::kInvalidInput);
          ++refused;
        }
      }
    }
  }
  // Both outcomes were exercised, not one of them only.
  EXPECT_GT(compared, 1000);
  EXPECT_GT(refused, 500);
}

TEST(AvroTranscode, RefusesEveryTruncationAsTheTreeDoes) {
  const auto schema = Schema::parse(R"({"type":"record","name":"R","fields":[
      {"name":"s","type":["null","string"]},{"name":"l","type":"long","doc":"x:DateTime"},
      {"name":"d","type":"double"},{"name":"m","type":{"type":"map","values":"int"}},
      {"name":"x","type":{"type":"fixed","name":"X","size":2}}]})");
  ASSERT_TRUE(schema.is_ok());
  const std::string payload(
      "\x02\x06"
      "abc"
      "\x02"
      "\0\0\0\0\0\0\xf0\x3f"
      "\x02\x02k\x04\x00"
      "yz",
      21);
  ASSERT_TRUE(decode_to_json(*schema, payload).is_ok());
  std::string json;
  ASSERT_TRUE(transcode_to_json(*schema, payload, {}, json).is_ok());
  EXPECT_EQ(json, *decode_to_json(*schema, payload));
  for (std::size_t cut = 0; cut < payload.size(); ++cut) {
    std::string out;
    auto status = transcode_to_json(*schema, payload.substr(0, cut), {}, out);
    ASSERT_FALSE(status.is_ok()) << cut;
    EXPECT_EQ(status.error().kind, core::ErrorKind::kInvalidInput);
    EXPECT_NE(status.error().message.find("truncated input"), std::string::npos)
        << cut << ": " << status.error().message;
  }
  std::string out;
  auto status = transcode_to_json(*schema, payload + "x", {}, out);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.error().message.find("left over"), std::string::npos);
}

TEST(AvroTranscode, EscapesStringsAsRapidjsonDoes) {
  for (int c = 0; c < 256; ++c) {
    const std::string text = "a" + std::string(1, static_cast<char>(c)) + "b";
    std::string json;
    append_json_string(json, text);
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    EXPECT_EQ(json, std::string(buffer.GetString(), buffer.GetSize())) << c;
  }
}

}  // namespace
}  // namespace sfkb::avro
