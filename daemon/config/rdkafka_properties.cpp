#include "daemon/config/rdkafka_properties.h"

#include <array>
#include <cctype>
#include <memory>
#include <string_view>
#include <utility>

#include <librdkafka/rdkafka.h>

#include "daemon/core/redact.h"

namespace sfkb::config {
namespace {

// librdkafka properties the bridge sets itself: overriding them would silently break the
// guarantees of docs/ARCHITECTURE.md §1/§4, so they are refused with the reason instead.
constexpr std::array<std::pair<std::string_view, std::string_view>, 13> kReservedProperties = {{
    {"bootstrap.servers", "set kafka.bootstrap_servers instead"},
    {"metadata.broker.list", "set kafka.bootstrap_servers instead"},
    {"group.id", "set publish[].group_id instead"},
    {"enable.idempotence", "the bridge always enables it (no duplicates, no reordering)"},
    {"enable.gapless.guarantee",
     "the bridge always enables it (resume rule, docs/ARCHITECTURE.md §4)"},
    {"acks", "the bridge always uses acks=all"},
    {"request.required.acks", "the bridge always uses acks=all"},
    {"message.timeout.ms", "the bridge waits for the broker as long as it takes (0)"},
    {"delivery.timeout.ms", "the bridge waits for the broker as long as it takes (0)"},
    {"enable.auto.commit", "offsets are committed only after Salesforce accepted the records"},
    {"enable.auto.offset.store", "offsets are stored only after Salesforce accepted the records"},
    {"transactional.id",
     "the bridge sets one per subscribe channel (fencing, docs/ARCHITECTURE.md §4)"},
    {"isolation.level", "the bridge reads only committed records (read_committed)"},
}};

// librdkafka's verdicts may end in a newline or span lines; a problem is one line
// ("path: message (line N, column M)"), so whitespace runs become one space.
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && (out.empty() || out.back() == ' ')) {
      continue;
    }
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

// librdkafka may quote the value it refuses; a secret one is hidden (core/redact.h).
std::string hide_value(std::string text, const std::string& key, const std::string& value) {
  if (!value.empty() && core::redact_value(key, value) != value) {
    for (auto pos = text.find(value); pos != std::string::npos; pos = text.find(value, pos)) {
      text.replace(pos, value.size(), core::kRedacted);
      pos += core::kRedacted.size();
    }
  }
  return core::redact_text(text);
}

struct RdKafkaConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};

}  // namespace

std::vector<std::string_view> reserved_rdkafka_properties() {
  std::vector<std::string_view> names;
  for (const auto& [name, why] : kReservedProperties) {
    names.push_back(name);
  }
  return names;
}

std::string rdkafka_property_problem(const std::string& key, const std::string& value) {
  for (const auto& [reserved, why] : kReservedProperties) {
    if (key == reserved) {
      return "cannot be set here: " + std::string(why);
    }
  }
  std::unique_ptr<rd_kafka_conf_t, RdKafkaConfDeleter> conf(rd_kafka_conf_new());
  char errstr[512] = {0};
  if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    return "librdkafka: " + one_line(hide_value(errstr, key, value));
  }
  return {};
}

}  // namespace sfkb::config
