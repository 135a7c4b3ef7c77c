// Inputs that tests/fuzz/fuzz_record_mapping (and a hand-made variant of one) crashed on, kept as
// unit tests so the plain and ASan unit runs guard them without a fuzzing build.

#include <cstring>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "daemon/pipeline/record_mapping.h"

namespace sfkb::pipeline {
namespace {

RecordMapper keyed_mapper() {
  RecordMappingSpec spec;
  spec.event = "Flight_Request__e";
  spec.key_field = "Key__c";
  return RecordMapper(spec);
}

// Fuzz crash fuzz_record_mapping-crash-58b276a0: a key whose last byte starts a 4-byte UTF-8
// sequence made the Writer's validation read past the key (ASan: heap-buffer-overflow). The key
// sits at the very end of its own heap block, as a librdkafka key buffer does, so the unit run
// under ASan fails on any read past it.
TEST(RecordMappingFuzzRegression, ShouldRefuseKeyEndingInsideAMultiByteSequenceWithoutOverread) {
  const RecordMapper mapper = keyed_mapper();
  for (const char* bytes : {"\xF2", "ok\xC3", "\xE2\x82", "\xF0\x9F\x98"}) {
    const std::size_t size = std::strlen(bytes);
    auto key = std::make_unique<char[]>(size);
    std::memcpy(key.get(), bytes, size);

    auto result = mapper.map(std::string_view(key.get(), size), std::string_view("{}"));

    ASSERT_FALSE(result.is_ok()) << "key of " << size << " bytes";
    EXPECT_EQ(result.error().kind, core::ErrorKind::kInvalidInput);
    EXPECT_NE(result.error().message.find("not valid UTF-8"), std::string::npos)
        << result.error().message;
  }
}

TEST(RecordMappingFuzzRegression, ShouldStillAcceptACompleteMultiByteKey) {
  const RecordMapper mapper = keyed_mapper();
  const std::string key = "caf\xC3\xA9-\xF0\x9F\x98\x80";

  auto result = mapper.map(std::string_view(key), std::string_view(R"({"A__c":1})"));

  ASSERT_TRUE(result.is_ok()) << result.error().message;
  EXPECT_EQ(result.value(), "{\"attributes\":{\"type\":\"Flight_Request__e\"},\"Key__c\":\"" + key +
                                "\",\"A__c\":1}");
}

// Found while fuzzing with the default 1 MB limit: the value parser recursed once per nesting
// level, so one ~600 KB record of nested arrays (well under the limit) overflowed the publish
// thread's stack and killed the daemon - and the same record again after every restart.
TEST(RecordMappingFuzzRegression, ShouldMapDeeplyNestedValueWithoutExhaustingTheStack) {
  const RecordMapper mapper = keyed_mapper();
  const std::size_t depth = 400000;
  const std::string value =
      "{\"Deep__c\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
  ASSERT_LT(value.size(), kDefaultMaxValueBytes);

  auto result = mapper.map(std::nullopt, std::string_view(value));

  // Salesforce refuses such a field on its own; what matters here is an answer, not a crash.
  ASSERT_TRUE(result.is_ok()) << result.error().message;
  const std::string prefix = R"({"attributes":{"type":"Flight_Request__e"},)";
  EXPECT_EQ(result.value(), prefix + value.substr(1));
}

}  // namespace
}  // namespace sfkb::pipeline
