#include "daemon/kafka/metadata.h"

#include <algorithm>

#include "daemon/kafka/error.h"
#include "daemon/kafka/handles.h"

namespace sfkb::kafka {

core::Result<std::int32_t> metadata_partition_count(rd_kafka_t* rk, const std::string& topic,
                                                    std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  const auto err = rd_kafka_metadata(rk, 1, nullptr, &raw,
                                     static_cast<int>(std::max<long long>(0, timeout.count())));
  MetadataPtr metadata(raw);
  if (auto status = check(err, "metadata for " + topic); !status) {
    return status.error();
  }
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& t = metadata->topics[i];
    if (topic == t.topic) {
      if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return check(t.err, "metadata for " + topic).error();
      }
      return static_cast<std::int32_t>(t.partition_cnt);
    }
  }
  return core::fatal_error("topic " + topic +
                           " does not exist (the bridge does not create topics)");
}

}  // namespace sfkb::kafka
