// libFuzzer target: the composite REST reply decoder (daemon/salesforce/rest_result.h).
// Bytes 0-1 pick the HTTP status (100..699), byte 2 the number of records the request carried
// (0..200); the rest is the body. A per-record reply must hold exactly one result per record
// sent, or the publish pipeline would attribute outcomes to the wrong Kafka offsets.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/salesforce/rest_result.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) {
    return 0;
  }
  const long status = 100 + ((static_cast<long>(data[0]) << 8 | data[1]) % 600);
  const std::size_t expected = data[2] % 201;
  const std::string_view body(reinterpret_cast<const char*>(data) + 3, size - 3);

  const auto reply = sfkb::salesforce::decode_composite_reply(status, body, expected);
  (void)sfkb::salesforce::to_string(reply.kind);
  if (reply.kind == sfkb::salesforce::ReplyKind::kPerRecord && reply.records.size() != expected) {
    std::abort();
  }
  for (const auto& record : reply.records) {
    (void)sfkb::salesforce::is_transient_error_code(record.error_code);
  }
  if (sfkb::salesforce::body_snippet(body, 64).size() > 64 + 8) {
    std::abort();
  }
  return 0;
}
