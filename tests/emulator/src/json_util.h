#pragma once

#include <string>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sfkb::emulator {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

inline void write_string(JsonWriter& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

inline std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  v.Accept(w);
  return {sb.GetString(), sb.GetSize()};
}

// A JSON string literal (quotes included) for `s`.
inline std::string json_quoted(const std::string& s) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  write_string(w, s);
  return {sb.GetString(), sb.GetSize()};
}

inline std::string member_string(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) {
    return {};
  }
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
}

}  // namespace sfkb::emulator
