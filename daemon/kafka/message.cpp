#include "daemon/kafka/message.h"

namespace sfkb::kafka {

std::optional<std::string> Record::header(std::string_view name) const {
  std::optional<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k == name) {
      out = v;
    }
  }
  return out;
}

std::optional<std::string_view> Message::key() const {
  if (message_->key == nullptr) {
    return std::nullopt;
  }
  return std::string_view(static_cast<const char*>(message_->key), message_->key_len);
}

std::optional<std::string_view> Message::value() const {
  if (message_->payload == nullptr) {
    return std::nullopt;
  }
  return std::string_view(static_cast<const char*>(message_->payload), message_->len);
}

std::optional<std::string_view> Message::header(std::string_view name) const {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message_.get(), &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  const std::string key(name);
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, key.c_str(), &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  return value == nullptr ? std::string_view()
                          : std::string_view(static_cast<const char*>(value), size);
}

std::vector<std::pair<std::string, std::string>> Message::headers() const {
  std::vector<std::pair<std::string, std::string>> out;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message_.get(), &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return out;
  }
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0;
       rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    out.emplace_back(name, value == nullptr ? std::string()
                                            : std::string(static_cast<const char*>(value), size));
  }
  return out;
}

std::int64_t Message::timestamp_ms() const {
  rd_kafka_timestamp_type_t type;
  return rd_kafka_message_timestamp(message_.get(), &type);
}

Record Message::to_record() const {
  Record r;
  r.topic = std::string(topic());
  r.partition = partition();
  r.offset = offset();
  if (auto k = key()) {
    r.key = std::string(*k);
  }
  if (auto v = value()) {
    r.value = std::string(*v);
  }
  r.headers = headers();
  r.timestamp_ms = timestamp_ms();
  return r;
}

}  // namespace sfkb::kafka
