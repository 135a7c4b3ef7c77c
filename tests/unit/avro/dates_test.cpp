#include "daemon/avro/dates.h"

#include <gtest/gtest.h>

namespace sfkb::avro {
namespace {

TEST(AvroDates, FormatsAsCometdWritesThem) {
  EXPECT_EQ(format_date_time(1795714200123), "2026-11-26T17:30:00.123Z");
  EXPECT_EQ(format_date_time(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_date_time(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_date(20783), "2026-11-26");
  EXPECT_EQ(format_date(-1), "1969-12-31");
  EXPECT_EQ(format_time(63000000), "17:30:00.000Z");
  EXPECT_EQ(format_time(86399999), "23:59:59.999Z");
}

TEST(AvroDates, RefusesWhatHasNoFourDigitYearOrIsNoTimeOfDay) {
  EXPECT_EQ(format_date_time(253402300800000), std::nullopt);  // 10000-01-01
  EXPECT_EQ(format_date_time(-62167219200001), std::nullopt);  // before 0000-01-01
  EXPECT_EQ(format_date_time(INT64_MIN), std::nullopt);
  EXPECT_EQ(format_date_time(INT64_MAX), std::nullopt);
  EXPECT_EQ(format_date(INT64_MAX), std::nullopt);
  EXPECT_EQ(format_time(86400000), std::nullopt);
  EXPECT_EQ(format_time(-1), std::nullopt);
}

TEST(AvroDates, ParsesTheTextFormsBack) {
  EXPECT_EQ(parse_date_time("2026-11-26T17:30:00.123Z"), 1795714200123);
  EXPECT_EQ(parse_date_time("2026-11-26T17:30:00Z"), 1795714200000);
  EXPECT_EQ(parse_date_time("2026-11-26T18:30:00.123+01:00"), 1795714200123);
  EXPECT_EQ(parse_date_time("2026-11-26T16:30:00.123-0100"), 1795714200123);
  EXPECT_EQ(parse_date_time("2026-11-26T17:30:00.1239Z"), 1795714200123);  // cut to ms
  EXPECT_EQ(parse_date("2026-11-26"), 20783);
  EXPECT_EQ(parse_time("17:30:00.000Z"), 63000000);
  EXPECT_EQ(parse_time("17:30:00"), 63000000);
  for (const char* bad : {"", "2026-11-26", "2026-11-26T17:30:00", "2026-02-30T00:00:00Z",
                          "2026-11-26T24:00:00Z", "2026-11-26T17:30:00.Z", "2026-11-26T17:30:00Zx",
                          "2026-11-26 17:30:00Z", "x026-11-26T17:30:00Z"}) {
    EXPECT_EQ(parse_date_time(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(parse_date("2026-13-01"), std::nullopt);
  EXPECT_EQ(parse_date("2026-1-01"), std::nullopt);
  EXPECT_EQ(parse_time("7:30:00"), std::nullopt);
}

TEST(AvroDates, TakesTheKindFromSalesforcesDocOrTheLogicalType) {
  EXPECT_EQ(temporal_of("CreatedDate:DateTime", ""), Temporal::kDateTime);
  EXPECT_EQ(temporal_of("Data:DateOnly", ""), Temporal::kDate);
  EXPECT_EQ(temporal_of("Data:TimeOnly", ""), Temporal::kTime);
  EXPECT_EQ(temporal_of("Data:Text:00N", ""), Temporal::kNone);
  EXPECT_EQ(temporal_of("", "timestamp-millis"), Temporal::kDateTime);
  EXPECT_EQ(temporal_of("", "date"), Temporal::kDate);
  EXPECT_EQ(temporal_of("", "time-millis"), Temporal::kTime);
  EXPECT_EQ(temporal_of("", ""), Temporal::kNone);
}

}  // namespace
}  // namespace sfkb::avro
