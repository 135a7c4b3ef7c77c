#include "daemon/kafka/error.h"

#include <gtest/gtest.h>

namespace sfkb::kafka {
namespace {

TEST(Check, NoErrorIsOk) {
  EXPECT_TRUE(check(RD_KAFKA_RESP_ERR_NO_ERROR, "x").is_ok());
}

TEST(Check, ClassifiesTransientPermanentAndFatalErrors) {
  EXPECT_EQ(check(RD_KAFKA_RESP_ERR__QUEUE_FULL, "produce").kind(), core::ErrorKind::kRetry);
  EXPECT_EQ(check(RD_KAFKA_RESP_ERR__TRANSPORT, "x").kind(), core::ErrorKind::kRetry);
  EXPECT_EQ(check(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, "x").kind(),
            core::ErrorKind::kInvalidInput);
  EXPECT_EQ(check(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "x").kind(),
            core::ErrorKind::kFatal);
  EXPECT_EQ(check(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "x").kind(), core::ErrorKind::kFatal);
}

TEST(Check, MessageNamesTheOperationAndTheCode) {
  const auto status = check(RD_KAFKA_RESP_ERR__QUEUE_FULL, "produce to t");
  EXPECT_NE(status.message().find("produce to t: "), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("_QUEUE_FULL"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace sfkb::kafka
