#pragma once
// RAII owners for every librdkafka C handle (docs/CONVENTIONS.md §3): no
// manual destroy anywhere else in the module. Owners are move-only by construction.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <memory>

namespace sfkb::kafka {

namespace detail {
template <typename T, void (*Destroy)(T*)>
struct Deleter {
  void operator()(T* p) const {
    if (p != nullptr) {
      Destroy(p);
    }
  }
};
inline void destroy_metadata(const rd_kafka_metadata_t* m) {
  rd_kafka_metadata_destroy(m);
}
}  // namespace detail

using ConfPtr =
    std::unique_ptr<rd_kafka_conf_t, detail::Deleter<rd_kafka_conf_t, rd_kafka_conf_destroy>>;
// Destroying a handle blocks until librdkafka's threads are gone; producers flush first (see
// Producer's destructor), consumers close first (Consumer::close()).
using HandlePtr = std::unique_ptr<rd_kafka_t, detail::Deleter<rd_kafka_t, rd_kafka_destroy>>;
using TopicPtr =
    std::unique_ptr<rd_kafka_topic_t, detail::Deleter<rd_kafka_topic_t, rd_kafka_topic_destroy>>;
using PartitionListPtr = std::unique_ptr<
    rd_kafka_topic_partition_list_t,
    detail::Deleter<rd_kafka_topic_partition_list_t, rd_kafka_topic_partition_list_destroy>>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t,
                                   detail::Deleter<rd_kafka_message_t, rd_kafka_message_destroy>>;
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t,
                                   detail::Deleter<rd_kafka_headers_t, rd_kafka_headers_destroy>>;
using MetadataPtr =
    std::unique_ptr<const rd_kafka_metadata_t,
                    detail::Deleter<const rd_kafka_metadata_t, detail::destroy_metadata>>;
using QueuePtr =
    std::unique_ptr<rd_kafka_queue_t, detail::Deleter<rd_kafka_queue_t, rd_kafka_queue_destroy>>;
using ErrorPtr =
    std::unique_ptr<rd_kafka_error_t, detail::Deleter<rd_kafka_error_t, rd_kafka_error_destroy>>;
using MockClusterPtr =
    std::unique_ptr<rd_kafka_mock_cluster_t,
                    detail::Deleter<rd_kafka_mock_cluster_t, rd_kafka_mock_cluster_destroy>>;

}  // namespace sfkb::kafka
