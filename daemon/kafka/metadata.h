#pragma once
// Topic metadata shared by the producer and the tail reader.

#include <chrono>
#include <cstdint>
#include <string>

#include <librdkafka/rdkafka.h>

#include "daemon/core/result.h"

namespace sfkb::kafka {

// The partition count of `topic`, from all-topics metadata: asking for the one topic would let a
// broker with auto.create.topics.enable create it, and the bridge does not create topics.
core::Result<std::int32_t> metadata_partition_count(rd_kafka_t* rk, const std::string& topic,
                                                    std::chrono::milliseconds timeout);

}  // namespace sfkb::kafka
