#include "avro_encoding.h"

#include <cstring>
#include <ctime>
#include <regex>

#include "json_util.h"

namespace sfkb::emulator::avro {
namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;

// ---- Avro binary primitives (the Avro 1.11 specification, "Binary Encoding")

void put_long(std::string& out, std::int64_t v) {
  auto z = (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
  while (z >= 0x80) {
    out += static_cast<char>((z & 0x7F) | 0x80);
    z >>= 7;
  }
  out += static_cast<char>(z);
}

void put_string(std::string& out, std::string_view s) {
  put_long(out, static_cast<std::int64_t>(s.size()));
  out.append(s);
}

void put_double(std::string& out, double d) {
  std::uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  for (int i = 0; i < 8; ++i) {
    out += static_cast<char>((bits >> (8 * i)) & 0xFF);
  }
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  bool long_value(std::int64_t& v) {
    std::uint64_t z = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos_ >= bytes_.size()) {
        return fail("truncated long");
      }
      auto b = static_cast<unsigned char>(bytes_[pos_++]);
      z |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        v = static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
        return true;
      }
    }
    return fail("long longer than 10 bytes");
  }
  bool string_value(std::string& s) {
    std::int64_t n = 0;
    if (!long_value(n)) {
      return false;
    }
    if (n < 0 || static_cast<std::uint64_t>(n) > bytes_.size() - pos_) {
      return fail("string length " + std::to_string(n) + " past the end of the payload");
    }
    s.assign(bytes_.substr(pos_, static_cast<std::size_t>(n)));
    pos_ += static_cast<std::size_t>(n);
    return true;
  }
  bool double_value(double& d) {
    if (bytes_.size() - pos_ < 8) {
      return fail("truncated double");
    }
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) {
      bits |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
    }
    pos_ += 8;
    std::memcpy(&d, &bits, sizeof d);
    return true;
  }
  bool bool_value(bool& b) {
    if (pos_ >= bytes_.size()) {
      return fail("truncated boolean");
    }
    auto c = static_cast<unsigned char>(bytes_[pos_++]);
    if (c > 1) {
      return fail("boolean byte " + std::to_string(c));
    }
    b = c == 1;
    return true;
  }
  bool at_end() const { return pos_ == bytes_.size(); }
  std::size_t pos() const { return pos_; }
  const std::string& error() const { return error_; }
  bool fail(std::string why) {
    error_ = std::move(why) + " at byte " + std::to_string(pos_);
    return false;
  }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
  std::string error_;
};

const char* doc_of(FieldType t) {
  switch (t) {
    case FieldType::kString:
      return "Data:Text";
    case FieldType::kNumber:
      return "Data:Number";
    case FieldType::kBoolean:
      return "Data:Checkbox";
    case FieldType::kDatetime:
      return "Data:DateTime";
    case FieldType::kDate:
      return "Data:DateOnly";
  }
  return "Data";
}

void write_value_type(JsonWriter& w, FieldType t) {
  switch (t) {
    case FieldType::kString:
      w.String("string");
      return;
    case FieldType::kNumber:
      w.String("double");
      return;
    case FieldType::kBoolean:
      w.String("boolean");
      return;
    case FieldType::kDatetime:
      w.String("long");
      return;
    case FieldType::kDate:
      w.String("int");
      return;
  }
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::string date_of_days(std::int64_t days) {
  std::time_t t = static_cast<std::time_t>(days) * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::optional<std::int64_t> date_to_days(const std::string& s) {
  static const std::regex re(R"(^(\d{4})-(\d{2})-(\d{2})$)");
  std::smatch m;
  if (!std::regex_match(s, m, re)) {
    return std::nullopt;
  }
  return days_from_civil(std::stoll(m[1]), static_cast<unsigned>(std::stoul(m[2])),
                         static_cast<unsigned>(std::stoul(m[3])));
}

// A union ["null", T] value: the null branch unless `v` fits T.
void put_field(std::string& out, FieldType t, const rapidjson::Value* v) {
  if (v == nullptr || v->IsNull()) {
    put_long(out, 0);
    return;
  }
  switch (t) {
    case FieldType::kString:
      if (v->IsString()) {
        put_long(out, 1);
        put_string(out, std::string_view(v->GetString(), v->GetStringLength()));
        return;
      }
      break;
    case FieldType::kNumber:
      if (v->IsNumber()) {
        put_long(out, 1);
        put_double(out, v->GetDouble());
        return;
      }
      break;
    case FieldType::kBoolean:
      if (v->IsBool()) {
        put_long(out, 1);
        out += v->GetBool() ? '\1' : '\0';
        return;
      }
      break;
    case FieldType::kDatetime:
      if (v->IsString()) {
        if (auto ms = iso_to_epoch_ms(v->GetString())) {
          put_long(out, 1);
          put_long(out, *ms);
          return;
        }
      }
      break;
    case FieldType::kDate:
      if (v->IsString()) {
        if (auto days = date_to_days(v->GetString())) {
          put_long(out, 1);
          put_long(out, *days);
          return;
        }
      }
      break;
  }
  put_long(out, 0);
}

const rapidjson::Value* member(const rapidjson::Value& obj, const std::string& name) {
  if (!obj.IsObject()) {
    return nullptr;
  }
  auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

}  // namespace

std::optional<std::int64_t> iso_to_epoch_ms(const std::string& iso) {
  static const std::regex re(
      R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2}))?$)");
  std::smatch m;
  if (!std::regex_match(iso, m, re)) {
    return std::nullopt;
  }
  std::int64_t days = days_from_civil(std::stoll(m[1]), static_cast<unsigned>(std::stoul(m[2])),
                                      static_cast<unsigned>(std::stoul(m[3])));
  std::int64_t ms = days * kMsPerDay + std::stoll(m[4]) * 3'600'000 + std::stoll(m[5]) * 60'000;
  if (m[6].matched) {
    ms += std::stoll(m[6]) * 1000;
  }
  if (m[7].matched) {
    std::string frac = m[7].str().substr(0, 3);
    frac.resize(3, '0');
    ms += std::stoll(frac);
  }
  if (m[9].matched) {
    std::int64_t offset = std::stoll(m[10]) * 3'600'000 + std::stoll(m[11]) * 60'000;
    ms += m[9] == "+" ? -offset : offset;
  }
  return ms;
}

std::string epoch_ms_to_iso(std::int64_t ms) {
  std::int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  auto millis = static_cast<int>(ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", millis);
  return buf;
}

std::string schema_json(const EventType& type) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("type");
  w.String("record");
  w.Key("name");
  write_string(w, type.name);
  w.Key("namespace");
  w.String("com.sforce.eventbus");
  w.Key("fields");
  w.StartArray();
  w.StartObject();
  w.Key("name");
  w.String("CreatedDate");
  w.Key("type");
  w.String("long");
  w.Key("doc");
  w.String("CreatedDate:DateTime");
  w.EndObject();
  w.StartObject();
  w.Key("name");
  w.String("CreatedById");
  w.Key("type");
  w.String("string");
  w.Key("doc");
  w.String("CreatedBy:EntityId");
  w.EndObject();
  for (const auto& [name, ft] : type.fields) {
    w.StartObject();
    w.Key("name");
    write_string(w, name);
    w.Key("type");
    w.StartArray();
    w.String("null");
    write_value_type(w, ft);
    w.EndArray();
    w.Key("doc");
    w.String(doc_of(ft));
    w.Key("default");
    w.Null();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

std::string encode_event(const EventType& type, const rapidjson::Value& payload) {
  std::string out;
  std::int64_t created = 0;
  if (const auto* v = member(payload, "CreatedDate"); v != nullptr && v->IsString()) {
    created = iso_to_epoch_ms(v->GetString()).value_or(0);
  }
  put_long(out, created);
  const auto* by = member(payload, "CreatedById");
  put_string(out, by != nullptr && by->IsString()
                      ? std::string_view(by->GetString(), by->GetStringLength())
                      : std::string_view());
  for (const auto& [name, ft] : type.fields) {
    put_field(out, ft, member(payload, name));
  }
  return out;
}

std::optional<Decoded> decode_event(const EventType& type, std::string_view bytes,
                                    std::string& error) {
  Reader r(bytes);
  std::int64_t created = 0;
  std::string created_by;
  if (!r.long_value(created) || !r.string_value(created_by)) {
    error = "CreatedDate/CreatedById: " + r.error();
    return std::nullopt;
  }
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  for (const auto& [name, ft] : type.fields) {
    std::int64_t branch = 0;
    if (!r.long_value(branch)) {
      error = name + ": " + r.error();
      return std::nullopt;
    }
    if (branch == 0) {
      continue;  // null: left out, as a REST record that does not name the field
    }
    if (branch != 1) {
      error = name + ": union branch " + std::to_string(branch) + " (the schema has 0 and 1)";
      return std::nullopt;
    }
    bool ok = true;
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    switch (ft) {
      case FieldType::kString: {
        std::string s;
        ok = r.string_value(s);
        write_string(w, s);
        break;
      }
      case FieldType::kNumber: {
        double d = 0;
        ok = r.double_value(d);
        w.Double(d);
        break;
      }
      case FieldType::kBoolean: {
        bool b = false;
        ok = r.bool_value(b);
        w.Bool(b);
        break;
      }
      case FieldType::kDatetime: {
        std::int64_t ms = 0;
        ok = r.long_value(ms);
        write_string(w, epoch_ms_to_iso(ms));
        break;
      }
      case FieldType::kDate: {
        std::int64_t days = 0;
        ok = r.long_value(days);
        write_string(w, date_of_days(days));
        break;
      }
    }
    if (!ok) {
      error = name + ": " + r.error();
      return std::nullopt;
    }
  }
  w.EndObject();
  if (!r.at_end()) {
    error = std::to_string(bytes.size() - r.pos()) + " bytes after the last field of " + type.name;
    return std::nullopt;
  }
  std::string s(sb.GetString(), sb.GetSize());
  return Decoded{s.substr(1, s.size() - 2)};
}

}  // namespace sfkb::emulator::avro
