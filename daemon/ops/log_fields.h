#pragma once
// Structured fields of a log line (docs/CONVENTIONS.md §7): the values that matter (channel,
// replay_id, topic, partition, offset, error_code, ...) passed as data, not only as text.
//
//   ops::warn(log, "dead-lettering record: {} {} {}", ops::field("topic", topic),
//             ops::field("partition", partition), ops::quoted_field("error", message));
//
// In the text a field reads `key=value` (`key="value"` when quoted) where the format string puts
// it, so a text line reads as before; the JSON sink also writes every field of the line, as a
// string, into its "fields" object. Values pass the redaction rule (core/redact.h) in both.
//
// How the fields reach the JSON formatter: ops::log() records them for the calling thread while
// it calls spdlog, and the formatter (ops/log.cpp) reads them during that call. That holds because
// every sink of ops/log.cpp is synchronous; an asynchronous sink would need the fields copied
// into the message instead.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

namespace sfkb::ops {

template <class T>
struct Field {
  std::string_view key;
  const T& value;  // formatted during the log call, which the Field does not outlive
  bool quoted = false;
};

template <class T>
Field<T> field(std::string_view key, const T& value) {
  return Field<T>{key, value, false};
}

// For free text (an error message, a reason): `key="value"`, so the text still reads as one field.
template <class T>
Field<T> quoted_field(std::string_view key, const T& value) {
  return Field<T>{key, value, true};
}

// The fields of one line, in the order of the format arguments; values already formatted.
using LogFields = std::vector<std::pair<std::string_view, std::string>>;

namespace detail {

// The fields of the line this thread is logging, or nullptr outside ops::log().
const LogFields* current_fields();

class ScopedFields {
 public:
  explicit ScopedFields(const LogFields& fields);
  ~ScopedFields();
  ScopedFields(const ScopedFields&) = delete;
  ScopedFields& operator=(const ScopedFields&) = delete;

 private:
  const LogFields* previous_;
};

template <class T>
void collect(LogFields&, const T&) {}

template <class T>
void collect(LogFields& out, const Field<T>& f) {
  out.emplace_back(f.key, fmt::format("{}", f.value));
}

}  // namespace detail

// Logs like logger.log(level, format, args...) and hands the Field arguments to the JSON sink.
template <class... Args>
void log(spdlog::logger& logger, spdlog::level::level_enum level,
         spdlog::format_string_t<Args...> format, Args&&... args) {
  if (!logger.should_log(level)) {
    return;
  }
  LogFields fields;
  (detail::collect(fields, args), ...);
  detail::ScopedFields scope(fields);
  logger.log(level, format, std::forward<Args>(args)...);
}

template <class... Args>
void debug(const std::shared_ptr<spdlog::logger>& logger, spdlog::format_string_t<Args...> format,
           Args&&... args) {
  log(*logger, spdlog::level::debug, format, std::forward<Args>(args)...);
}

template <class... Args>
void info(const std::shared_ptr<spdlog::logger>& logger, spdlog::format_string_t<Args...> format,
          Args&&... args) {
  log(*logger, spdlog::level::info, format, std::forward<Args>(args)...);
}

template <class... Args>
void warn(const std::shared_ptr<spdlog::logger>& logger, spdlog::format_string_t<Args...> format,
          Args&&... args) {
  log(*logger, spdlog::level::warn, format, std::forward<Args>(args)...);
}

template <class... Args>
void error(const std::shared_ptr<spdlog::logger>& logger, spdlog::format_string_t<Args...> format,
           Args&&... args) {
  log(*logger, spdlog::level::err, format, std::forward<Args>(args)...);
}

}  // namespace sfkb::ops

template <class T>
struct fmt::formatter<sfkb::ops::Field<T>> {
  constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
  template <class FormatContext>
  auto format(const sfkb::ops::Field<T>& f, FormatContext& ctx) const {
    if (f.quoted) {
      return fmt::format_to(ctx.out(), "{}=\"{}\"", f.key, f.value);
    }
    return fmt::format_to(ctx.out(), "{}={}", f.key, f.value);
  }
};
