#pragma once
// The value encoders of `value: payload` and `value: envelope` (README.md "Channel kinds"): the
// JSON exactly as Salesforce sent it, never re-serialised, so numbers keep their digits.

#include <string>

#include "daemon/pipeline/value_encoder.h"

namespace sfkb::pipeline {

// The kind's record object: data.payload (platform and change events) or data.sobject
// (PushTopic).
class PayloadJsonEncoder final : public ValueEncoder {
 public:
  std::string encode(const salesforce::StreamEvent& event) const override;
};

// The whole data object of the CometD message.
class EnvelopeJsonEncoder final : public ValueEncoder {
 public:
  std::string encode(const salesforce::StreamEvent& event) const override;
};

}  // namespace sfkb::pipeline
