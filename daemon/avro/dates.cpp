#include "daemon/avro/dates.h"

#include <chrono>

namespace sfkb::avro {
namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;
// 0000-01-01 and 9999-12-31 as days since 1970-01-01.
constexpr std::int64_t kMinDay = -719528;
constexpr std::int64_t kMaxDay = 2932896;

bool digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) {
    return false;
  }
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

std::optional<std::int64_t> days_of(int y, int m, int d) {
  using namespace std::chrono;
  const year_month_day date{year(y), month(static_cast<unsigned>(m)),
                            day(static_cast<unsigned>(d))};
  if (!date.ok()) {
    return std::nullopt;
  }
  return sys_days(date).time_since_epoch().count();
}

// "HH:MM:SS[.fff…]" at `pos`; advances `pos`; milliseconds of the day.
std::optional<std::int64_t> clock_at(std::string_view text, std::size_t& pos) {
  int h = 0;
  int m = 0;
  int s = 0;
  if (!digits(text, pos, 2, h) || pos + 2 >= text.size() || text[pos + 2] != ':' ||
      !digits(text, pos + 3, 2, m) || pos + 5 >= text.size() || text[pos + 5] != ':' ||
      !digits(text, pos + 6, 2, s)) {
    return std::nullopt;
  }
  pos += 8;
  if (h > 23 || m > 59 || s > 59) {
    return std::nullopt;
  }
  std::int64_t ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int count = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (count < 3) {
        ms = ms * 10 + (text[pos] - '0');
      }
      ++count;
      ++pos;
    }
    if (count == 0) {
      return std::nullopt;
    }
    for (int i = count; i < 3; ++i) {
      ms *= 10;
    }
  }
  return ((h * 60 + m) * 60 + s) * 1000LL + ms;
}

}  // namespace

Temporal temporal_of(std::string_view doc, std::string_view logical_type) {
  const auto colon = doc.rfind(':');
  const std::string_view kind = colon == std::string_view::npos ? doc : doc.substr(colon + 1);
  if (kind == "DateTime") {
    return Temporal::kDateTime;
  }
  if (kind == "DateOnly") {
    return Temporal::kDate;
  }
  if (kind == "TimeOnly") {
    return Temporal::kTime;
  }
  if (logical_type == "timestamp-millis") {
    return Temporal::kDateTime;
  }
  if (logical_type == "date") {
    return Temporal::kDate;
  }
  if (logical_type == "time-millis") {
    return Temporal::kTime;
  }
  return Temporal::kNone;
}

namespace {

// Writes `value` as `width` decimal digits, zero-padded. Hand-written rather than snprintf: a
// platform event's CreatedDate is formatted once per event on the subscribe path.
char* put_digits(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

// "YYYY-MM-DD" (10 characters) for a day within kMinDay..kMaxDay.
char* put_date(char* out, std::int64_t epoch_days) {
  using namespace std::chrono;
  const year_month_day date{sys_days{days{epoch_days}}};
  out = put_digits(out, static_cast<unsigned>(static_cast<int>(date.year())), 4);
  *out++ = '-';
  out = put_digits(out, static_cast<unsigned>(date.month()), 2);
  *out++ = '-';
  return put_digits(out, static_cast<unsigned>(date.day()), 2);
}

// "hh:mm:ss.mmmZ" (13 characters) for 0 <= ms_of_day < kMsPerDay.
char* put_time(char* out, std::int64_t ms_of_day) {
  out = put_digits(out, static_cast<unsigned>(ms_of_day / 3'600'000), 2);
  *out++ = ':';
  out = put_digits(out, static_cast<unsigned>(ms_of_day / 60'000 % 60), 2);
  *out++ = ':';
  out = put_digits(out, static_cast<unsigned>(ms_of_day / 1000 % 60), 2);
  *out++ = '.';
  out = put_digits(out, static_cast<unsigned>(ms_of_day % 1000), 3);
  *out++ = 'Z';
  return out;
}

}  // namespace

std::size_t format_date(std::int64_t epoch_days, char (&text)[kTemporalTextSize]) {
  if (epoch_days < kMinDay || epoch_days > kMaxDay) {
    return 0;
  }
  return static_cast<std::size_t>(put_date(text, epoch_days) - text);
}

std::size_t format_time(std::int64_t ms_of_day, char (&text)[kTemporalTextSize]) {
  if (ms_of_day < 0 || ms_of_day >= kMsPerDay) {
    return 0;
  }
  return static_cast<std::size_t>(put_time(text, ms_of_day) - text);
}

std::size_t format_date_time(std::int64_t epoch_ms, char (&text)[kTemporalTextSize]) {
  // Floor division: a time before 1970 belongs to the day before.
  std::int64_t day = epoch_ms / kMsPerDay;
  std::int64_t ms = epoch_ms % kMsPerDay;
  if (ms < 0) {
    ms += kMsPerDay;
    --day;
  }
  if (day < kMinDay || day > kMaxDay) {
    return 0;
  }
  char* end = put_date(text, day);
  *end++ = 'T';
  return static_cast<std::size_t>(put_time(end, ms) - text);
}

namespace {

template <typename Format>
std::optional<std::string> as_string(std::int64_t value, Format format) {
  char text[kTemporalTextSize];
  const std::size_t length = format(value, text);
  if (length == 0) {
    return std::nullopt;
  }
  return std::string(text, length);
}

}  // namespace

std::optional<std::string> format_date(std::int64_t epoch_days) {
  return as_string(epoch_days, [](std::int64_t v, auto& text) { return format_date(v, text); });
}

std::optional<std::string> format_time(std::int64_t ms_of_day) {
  return as_string(ms_of_day, [](std::int64_t v, auto& text) { return format_time(v, text); });
}

std::optional<std::string> format_date_time(std::int64_t epoch_ms) {
  return as_string(epoch_ms, [](std::int64_t v, auto& text) { return format_date_time(v, text); });
}

std::optional<std::int64_t> parse_date(std::string_view text) {
  int y = 0;
  int m = 0;
  int d = 0;
  if (text.size() != 10 || !digits(text, 0, 4, y) || text[4] != '-' || !digits(text, 5, 2, m) ||
      text[7] != '-' || !digits(text, 8, 2, d)) {
    return std::nullopt;
  }
  return days_of(y, m, d);
}

std::optional<std::int64_t> parse_time(std::string_view text) {
  std::size_t pos = 0;
  auto ms = clock_at(text, pos);
  if (!ms) {
    return std::nullopt;
  }
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  }
  return pos == text.size() ? ms : std::nullopt;
}

std::optional<std::int64_t> parse_date_time(std::string_view text) {
  if (text.size() < 19 || text[10] != 'T') {
    return std::nullopt;
  }
  auto day = parse_date(text.substr(0, 10));
  std::size_t pos = 11;
  auto ms = clock_at(text, pos);
  if (!day || !ms) {
    return std::nullopt;
  }
  std::int64_t offset_ms = 0;
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    int h = 0;
    int m = 0;
    const std::size_t minutes_at =
        pos + 3 < text.size() && text[pos + 3] == ':' ? pos + 4 : pos + 3;
    if (!digits(text, pos + 1, 2, h) || !digits(text, minutes_at, 2, m) || h > 23 || m > 59) {
      return std::nullopt;
    }
    offset_ms = sign * (h * 60 + m) * 60'000LL;
    pos = minutes_at + 2;
  } else {
    return std::nullopt;  // a date-time without a zone names no instant
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  return *day * kMsPerDay + *ms - offset_ms;
}

}  // namespace sfkb::avro
