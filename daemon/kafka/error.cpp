#include "daemon/kafka/error.h"

#include "daemon/kafka/handles.h"

namespace sfkb::kafka {

core::ErrorKind classify(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__WAIT_CACHE:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
      return core::ErrorKind::kRetry;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
      return core::ErrorKind::kFatal;  // message.timeout.ms=0: a timeout means someone set one
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
      return core::ErrorKind::kInvalidInput;
    default:
      return core::ErrorKind::kFatal;
  }
}

core::Status check(rd_kafka_resp_err_t err, std::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    return core::Status::ok();
  }
  return core::Error{classify(err), std::string(what) + ": " + rd_kafka_err2str(err) + " (" +
                                        rd_kafka_err2name(err) + ")"};
}

core::Status check(rd_kafka_error_t* raw, std::string_view what) {
  ErrorPtr error(raw);
  if (!error) {
    return core::Status::ok();
  }
  core::ErrorKind kind = classify(rd_kafka_error_code(error.get()));
  if (rd_kafka_error_is_fatal(error.get())) {
    kind = core::ErrorKind::kFatal;
  } else if (rd_kafka_error_is_retriable(error.get())) {
    kind = core::ErrorKind::kRetry;
  }
  return core::Error{kind, std::string(what) + ": " + rd_kafka_error_string(error.get()) + " (" +
                               rd_kafka_error_name(error.get()) + ")"};
}

}  // namespace sfkb::kafka
