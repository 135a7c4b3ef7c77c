// libFuzzer target: the Bayeux/CometD response decoder (daemon/salesforce/bayeux.h).
// Every /meta/connect reply body comes from the network, so decode_response must hold on any
// bytes: no crash, no sanitizer report, bounded snippets. The helpers the CometD client applies to
// the `error` and `ext.sfdc.failureReason` strings it gets back are exercised on those strings.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <rapidjson/document.h>

#include "daemon/salesforce/bayeux.h"

namespace bayeux = sfkb::salesforce::bayeux;

namespace {

void check_object_from(std::string_view body, const std::string& text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject() || body.find(text) == std::string_view::npos) {
    std::abort();
  }
}

void check_snippet(const std::string& snippet) {
  // kMaxSnippet is the contract the logs rely on; a longer snippet would be a bug, so trap it.
  // Redaction may add a short marker, hence the slack.
  if (snippet.size() > bayeux::kMaxSnippet + 64) {
    std::abort();
  }
}

void classify(std::string_view text) {
  (void)bayeux::error_code(text);
  (void)bayeux::is_unknown_client(text);
  (void)bayeux::is_authentication_error(text);
  (void)bayeux::is_server_busy(text);
  (void)bayeux::is_daily_limit(text);
  (void)bayeux::is_invalid_replay_id(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  classify(body);
  check_snippet(bayeux::snippet(body));

  auto decoded = bayeux::decode_response(body);
  if (!decoded) {
    return 0;
  }
  const bayeux::Decoded& value = decoded.value();
  if (value.malformed.size() > bayeux::kMaxMalformedDetails ||
      value.malformed.size() > value.malformed_count) {
    std::abort();
  }
  for (const auto& malformed : value.malformed) {
    check_snippet(malformed.snippet);
  }
  for (const auto& message : value.messages) {
    classify(message.error);
    classify(message.failure_reason);
    (void)message.is_meta();
    if (message.event) {
      // The event's texts are cut from the body: each must be a JSON object found in it.
      check_object_from(body, message.event->payload_json);
      check_object_from(body, message.event->envelope_json);
    }
  }
  return 0;
}
