#pragma once
// Avro C (libavro, Debian's libavro-dev) as an independent Avro implementation for tests: bytes
// it writes are a golden reference for daemon/avro's decoder, and bytes daemon/avro writes must
// read back through it. Header-only; a test executable that includes it links PkgConfig::AVRO.

#include <avro.h>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sfkb::test_support {

// One schema and a generic value of it, released in reverse order.
class AvroC {
 public:
  explicit AvroC(std::string_view schema_json) {
    if (avro_schema_from_json_length(schema_json.data(), schema_json.size(), &schema_) != 0) {
      throw std::invalid_argument(std::string("libavro refuses the schema: ") + avro_strerror());
    }
    iface_ = avro_generic_class_from_schema(schema_);
    if (iface_ == nullptr || avro_generic_value_new(iface_, &value_) != 0) {
      throw std::runtime_error(std::string("libavro: ") + avro_strerror());
    }
  }
  ~AvroC() {
    avro_value_decref(&value_);
    avro_value_iface_decref(iface_);
    avro_schema_decref(schema_);
  }
  AvroC(const AvroC&) = delete;
  AvroC& operator=(const AvroC&) = delete;

  avro_value_t& value() { return value_; }

  // The binary encoding of value().
  std::string write() {
    std::string buffer(1 << 20, '\0');
    avro_writer_t writer = avro_writer_memory(buffer.data(), static_cast<int64_t>(buffer.size()));
    const int rc = avro_value_write(writer, &value_);
    const auto size = avro_writer_tell(writer);
    avro_writer_free(writer);
    if (rc != 0) {
      throw std::runtime_error(std::string("libavro cannot write the value: ") + avro_strerror());
    }
    buffer.resize(static_cast<std::size_t>(size));
    return buffer;
  }

  // Reads `bytes` into value(); the error text when libavro refuses them or leaves bytes over.
  std::optional<std::string> read(std::string_view bytes) {
    avro_value_reset(&value_);
    avro_reader_t reader = avro_reader_memory(bytes.data(), static_cast<int64_t>(bytes.size()));
    const int rc = avro_value_read(reader, &value_);
    avro_reader_free(reader);
    if (rc != 0) {
      return std::string("libavro cannot read the bytes: ") + avro_strerror();
    }
    // An exact payload is used up: the value read is as long as the input.
    size_t size = 0;
    avro_value_sizeof(&value_, &size);
    if (size != bytes.size()) {
      return "libavro read " + std::to_string(size) + " of " + std::to_string(bytes.size()) +
             " bytes";
    }
    return std::nullopt;
  }

  // A field of a record value, a branch of a union value (set), by name / index.
  static avro_value_t field(avro_value_t& record, const char* name) {
    avro_value_t child;
    if (avro_value_get_by_name(&record, name, &child, nullptr) != 0) {
      throw std::invalid_argument(std::string("libavro: no field ") + name);
    }
    return child;
  }
  static avro_value_t branch(avro_value_t& value, int index) {
    avro_value_t child;
    if (avro_value_set_branch(&value, index, &child) != 0) {
      throw std::invalid_argument(std::string("libavro: no branch ") + std::to_string(index));
    }
    return child;
  }
  static avro_value_t append(avro_value_t& array) {
    avro_value_t child;
    avro_value_append(&array, &child, nullptr);
    return child;
  }

 private:
  avro_schema_t schema_ = nullptr;
  avro_value_iface_t* iface_ = nullptr;
  avro_value_t value_{};
};

}  // namespace sfkb::test_support
