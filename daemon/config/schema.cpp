#include "daemon/config/schema.h"

#include <regex>

#include "daemon/core/redact.h"

namespace sfkb::config::schema {
namespace {

// 1000000 -> "1,000,000"; numbers below 10,000 stay as they are.
std::string grouped(long long value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  if (digits.size() > 4) {
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
      digits.insert(static_cast<std::size_t>(i), ",");
    }
  }
  return value < 0 ? "-" + digits : digits;
}

}  // namespace

void emit_text(YAML::Emitter& out, std::string_view key, const std::string& value, bool secret) {
  out << YAML::Key << std::string(key) << YAML::Value;
  if (!value.empty() && (secret || core::contains_pem(value))) {
    out << std::string(core::kRedacted);
  } else {
    out << YAML::DoubleQuoted << escape_interpolation(value);
  }
}

std::string code_default(const std::string& value, const Spec& spec) {
  std::string out = "`" + value + "`";
  if (!spec.default_note.empty()) {
    out += " " + std::string(spec.default_note);
  }
  return out;
}

std::string text_default(const std::string& value, const Spec& spec) {
  if (value.empty() && spec.required) {
    return "— (required)";
  }
  // Quoted where YAML would read the bare text as something else (api_version "62.0").
  static const std::regex number(R"(-?[0-9]+(\.[0-9]+)?)");
  const bool quote = value.empty() || std::regex_match(value, number);
  return code_default(quote ? "\"" + value + "\"" : value, spec);
}

std::string meaning(const Spec& spec, const std::string& bounds) {
  std::string out(spec.doc);
  if (spec.secret) {
    out += "; secret";
  }
  if (!bounds.empty()) {
    out += "; " + bounds;
  }
  return out;
}

std::string duration_bounds(DurationRange range) {
  return "`" + format_duration(range.min) + "`–`" + format_duration(range.max) + "`";
}

std::string integer_bounds(Range<long long> range) {
  return grouped(range.min) + "–" + grouped(range.max);
}

void report(Reader& reader, const Scalar& s, Check check) {
  if (check == nullptr) {
    return;
  }
  for (auto& problem : check(s.text)) {
    reader.error(s.path, s.mark, std::move(problem));
  }
}

}  // namespace sfkb::config::schema
