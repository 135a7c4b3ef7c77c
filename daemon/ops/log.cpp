#include "daemon/ops/log.h"

#include <mutex>

#include <spdlog/details/os.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "daemon/core/redact.h"
#include "daemon/ops/log_fields.h"

namespace sfkb::ops {
namespace {

// One JSON object per line: {"time":..,"level":..,"logger":..,"message":..,"fields":{..}}. Messages
// are escaped here so that any text (including raw snippets of malformed server replies) stays
// valid JSON.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto time = std::chrono::system_clock::to_time_t(msg.time);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    gmtime_r(&time, &tm);
    char stamp[64];
    std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(millis));
    append(dest, "{\"time\":\"");
    append(dest, stamp);
    append(dest, "\",\"level\":\"");
    const auto level = spdlog::level::to_string_view(msg.level);
    dest.append(level.data(), level.data() + level.size());
    append(dest, "\",\"logger\":\"");
    escape(dest, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    append(dest, "\",\"message\":\"");
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    escape(dest, payload);
    append(dest, "\"");
    append_fields(dest);
    append(dest, "}\n");
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }

 private:
  // The line's fields (log_fields.h), given as data by ops::log() on this thread, as a "fields"
  // object: JSON log consumers filter on them without parsing the text. Values are strings, and
  // pass the redaction rule like the message: by their key and by their text. An empty value is
  // left out: there is nothing to filter on.
  static void append_fields(spdlog::memory_buf_t& dest) {
    const LogFields* fields = detail::current_fields();
    if (fields == nullptr) {
      return;
    }
    bool any = false;
    for (const auto& [key, value] : *fields) {
      if (value.empty()) {
        continue;
      }
      append(dest, any ? ",\"" : ",\"fields\":{\"");
      escape(dest, key);
      append(dest, "\":\"");
      escape(dest, core::redact_value(key, core::redact_text(value)));
      append(dest, "\"");
      any = true;
    }
    if (any) {
      append(dest, "}");
    }
  }
  static void append(spdlog::memory_buf_t& dest, std::string_view text) {
    dest.append(text.data(), text.data() + text.size());
  }
  static void escape(spdlog::memory_buf_t& dest, std::string_view text) {
    for (unsigned char c : text) {
      switch (c) {
        case '"':
          append(dest, "\\\"");
          break;
        case '\\':
          append(dest, "\\\\");
          break;
        case '\n':
          append(dest, "\\n");
          break;
        case '\r':
          append(dest, "\\r");
          break;
        case '\t':
          append(dest, "\\t");
          break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            append(dest, buf);
          } else {
            dest.push_back(static_cast<char>(c));
          }
      }
    }
  }
};

// Every message goes through the one redaction rule (core/redact.h) before it is formatted, so a
// secret that a caller forgot to redact (an echoed property, a server reply) still never reaches
// stdout or the journal. Text without anything secret-looking costs one lower-casing scan.
class RedactingFormatter final : public spdlog::formatter {
 public:
  explicit RedactingFormatter(std::unique_ptr<spdlog::formatter> inner)
      : inner_(std::move(inner)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const std::string redacted = core::redact_text(payload);
    if (redacted == payload) {
      inner_->format(msg, dest);
      return;
    }
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(redacted.data(), redacted.size());
    inner_->format(copy, dest);
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<RedactingFormatter>(inner_->clone());
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

struct LogState {
  std::mutex mutex;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  config::LogFormat format = config::LogFormat::kText;
  spdlog::level::level_enum level = spdlog::level::info;
};

LogState& state() {
  static LogState s;
  return s;
}

std::unique_ptr<spdlog::formatter> make_formatter(config::LogFormat format) {
  if (format == config::LogFormat::kJson) {
    return std::make_unique<RedactingFormatter>(std::make_unique<JsonFormatter>());
  }
  return std::make_unique<RedactingFormatter>(std::make_unique<spdlog::pattern_formatter>(
      "%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %v", spdlog::pattern_time_type::utc));
}

}  // namespace

namespace detail {
namespace {
thread_local const LogFields* current = nullptr;
}  // namespace

const LogFields* current_fields() {
  return current;
}

ScopedFields::ScopedFields(const LogFields& fields) : previous_(current) {
  current = &fields;
}

ScopedFields::~ScopedFields() {
  current = previous_;
}

}  // namespace detail

void setup_logging(const config::LoggingConfig& logging,
                   const std::optional<std::string>& level_override) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.format = logging.format;
  s.level = spdlog::level::from_str(level_override.value_or(logging.level));
  s.sink->set_formatter(make_formatter(s.format));
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
    l->set_level(s.level);
    l->flush_on(spdlog::level::trace);
  });
}

std::shared_ptr<spdlog::logger> logger(std::string_view module) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  std::string name(module);
  if (auto existing = spdlog::get(name)) {
    return existing;
  }
  static std::once_flag formatter_once;
  std::call_once(formatter_once, [&] { s.sink->set_formatter(make_formatter(s.format)); });
  auto created = std::make_shared<spdlog::logger>(name, s.sink);
  created->set_level(s.level);
  // One line per event, visible at once (Heroku and journald read stdout line by line).
  created->flush_on(spdlog::level::trace);
  spdlog::register_logger(created);
  return created;
}

}  // namespace sfkb::ops
