#pragma once
// The one place librdkafka's return codes become our errors (docs/CONVENTIONS.md §4): every
// rd_kafka_resp_err_t of the module goes through check().

#include <librdkafka/rdkafka.h>

#include <stdexcept>
#include <string>
#include <string_view>

#include "daemon/core/result.h"

namespace sfkb::kafka {

// Thrown only at start-up (building a client from the configuration).
struct KafkaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// kRetry for errors that heal with time (broker down, timeouts, leader changes, queue full),
// kInvalidInput for a record that can never be produced (too large, invalid), kFatal otherwise.
core::ErrorKind classify(rd_kafka_resp_err_t err);

// ok for RD_KAFKA_RESP_ERR_NO_ERROR; otherwise "<what>: <librdkafka's message> (<code name>)"
// with classify()'s kind.
core::Status check(rd_kafka_resp_err_t err, std::string_view what);

// Same for the rd_kafka_error_t* API (takes ownership; nullptr is ok). Fatal and retriable flags
// of the error object win over the code's classification.
core::Status check(rd_kafka_error_t* error, std::string_view what);

}  // namespace sfkb::kafka
