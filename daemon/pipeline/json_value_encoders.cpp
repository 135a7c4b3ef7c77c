#include "daemon/pipeline/json_value_encoders.h"

namespace sfkb::pipeline {

std::string PayloadJsonEncoder::encode(const salesforce::StreamEvent& event) const {
  return event.payload_json;
}

std::string EnvelopeJsonEncoder::encode(const salesforce::StreamEvent& event) const {
  return event.envelope_json;
}

}  // namespace sfkb::pipeline
