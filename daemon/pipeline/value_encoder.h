#pragma once
// The seam between an event and its Kafka record value (docs/ARCHITECTURE.md §3 "Seams"):
// map_event (event_mapping.h) decides topic, partition, key and headers, and asks the channel's
// encoder for the value bytes. The composition root picks one encoder per subscribe mapping
// (app/composition_root.h make_value_encoder); the JSON ones are json_value_encoders.h.

#include <string>

#include "daemon/salesforce/event_source.h"

namespace sfkb::pipeline {

class ValueEncoder {
 public:
  virtual ~ValueEncoder() = default;
  // The record value for `event` (never a ChannelRestart item). Pure and thread-compatible:
  // called on the pipeline thread for every event.
  virtual std::string encode(const salesforce::StreamEvent& event) const = 0;
};

}  // namespace sfkb::pipeline
