#pragma once
// The text forms CometD uses for Salesforce's date and time fields, and the numbers the Pub/Sub
// API's Avro payloads carry for them (docs/SALESFORCE_PROTOCOL.md "How an Avro event becomes the
// JSON of CometD"): DateTime = epoch milliseconds <-> "2026-11-26T17:30:00.123Z", Date = days
// since 1970-01-01 <-> "2026-11-26", Time = milliseconds after midnight <-> "17:30:00.000Z".

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sfkb::avro {

// Which of the three a field is, from its schema.
enum class Temporal : std::uint8_t { kNone, kDateTime, kDate, kTime };

// From Salesforce's field doc ("CreatedDate:DateTime", "Data:DateOnly": the last ':'-separated
// part) or, failing that, Avro's logical type (timestamp-millis, date, time-millis).
Temporal temporal_of(std::string_view doc, std::string_view logical_type);

// nullopt outside years 0000-9999 (or, for a time, outside one day).
std::optional<std::string> format_date_time(std::int64_t epoch_ms);
std::optional<std::string> format_date(std::int64_t epoch_days);
std::optional<std::string> format_time(std::int64_t ms_of_day);
// The same texts into a buffer, without a string per value (the subscribe path formats one or
// more per event): the length written, 0 where the above give nullopt.
inline constexpr std::size_t kTemporalTextSize = 32;
std::size_t format_date_time(std::int64_t epoch_ms, char (&text)[kTemporalTextSize]);
std::size_t format_date(std::int64_t epoch_days, char (&text)[kTemporalTextSize]);
std::size_t format_time(std::int64_t ms_of_day, char (&text)[kTemporalTextSize]);

// The inverses. A date-time takes "YYYY-MM-DDTHH:MM:SS", optional fraction (milliseconds; more
// digits are cut), and "Z" or an offset "+hh:mm" / "-hh:mm" / "+hhmm"; a date "YYYY-MM-DD"; a time
// "HH:MM:SS", optional fraction, optional "Z". nullopt for anything else.
std::optional<std::int64_t> parse_date_time(std::string_view text);
std::optional<std::int64_t> parse_date(std::string_view text);
std::optional<std::int64_t> parse_time(std::string_view text);

}  // namespace sfkb::avro
