// bench_event_codec: the per-event cost of turning a Pub/Sub API payload into the JSON CometD
// carries, in one process, without the noise of gRPC, Kafka and the emulator (bench/RESULTS.md).
//
//   bench_event_codec [--events N]
//
// For a platform event shaped like bench_subscribe's (CreatedDate, CreatedById, Text__c,
// Number__c) and a change event like Salesforce's AccountChangeEvent, prints per event: CPU ns
// and heap allocations (operator new calls) of
//   tree       avro::decode() + avro::to_json(): the datum tree the subscribe path used to build
//   transcode  avro::transcode_to_json(): the JSON straight from the binary
//   event      pubsub::decode_event(): what the subscribe stream calls (transcode, the header or
//              CreatedDate, the envelope, the StreamEvent)

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <new>
#include <string>

#include "daemon/avro/binary.h"
#include "daemon/avro/json.h"
#include "daemon/pubsub/event_codec.h"

namespace {

std::atomic<long> allocations{0};

double cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

constexpr const char* kPlatform = R"({"type":"record","name":"A__e","fields":[
  {"name":"CreatedDate","type":"long","doc":"CreatedDate:DateTime"},
  {"name":"CreatedById","type":"string","doc":"CreatedBy:EntityId"},
  {"name":"Text__c","type":["null","string"],"doc":"Data:Text","default":null},
  {"name":"Number__c","type":["null","double"],"doc":"Data:Double","default":null}]})";
constexpr const char* kPlatformRecord =
    R"({"CreatedDate":1795714200123,"CreatedById":"005xx000001SvQrAAK",)"
    R"("Text__c":"bench-12345","Number__c":42})";

constexpr const char* kChange = R"({"type":"record","name":"AccountChangeEvent","fields":[
  {"name":"ChangeEventHeader","type":{"type":"record","name":"ChangeEventHeader","fields":[
    {"name":"entityName","type":"string"},
    {"name":"recordIds","type":{"type":"array","items":"string"}},
    {"name":"changeType","type":{"type":"enum","name":"ChangeType","symbols":["CREATE","UPDATE"]}},
    {"name":"changeOrigin","type":"string"},{"name":"transactionKey","type":"string"},
    {"name":"sequenceNumber","type":"int"},{"name":"commitTimestamp","type":"long"},
    {"name":"commitNumber","type":"long"},{"name":"commitUser","type":"string"},
    {"name":"nulledFields","type":{"type":"array","items":"string"}},
    {"name":"diffFields","type":{"type":"array","items":"string"}},
    {"name":"changedFields","type":{"type":"array","items":"string"}}]}},
  {"name":"Name","type":["null","string"],"default":null},
  {"name":"Phone","type":["null","string"],"default":null},
  {"name":"BillingAddress","type":["null",{"type":"record","name":"Address","fields":[
    {"name":"Street","type":["null","string"],"default":null},
    {"name":"City","type":["null","string"],"default":null}]}],"default":null},
  {"name":"AnnualRevenue","type":["null","double"],"default":null},
  {"name":"LastModifiedDate","type":["null","long"],"doc":"Data:DateTime","default":null}]})";
constexpr const char* kChangeRecord =
    R"({"ChangeEventHeader":{"entityName":"Account","recordIds":["001xx000003DGb2AAG"],)"
    R"("changeType":"UPDATE","changeOrigin":"com/salesforce/api/rest/62.0",)"
    R"("transactionKey":"0002ac83-fcbd-9443-f901-7d3a380feb2c","sequenceNumber":1,)"
    R"("commitTimestamp":1795714200123,"commitNumber":10957268752,)"
    R"("commitUser":"005xx000001SvQrAAK","nulledFields":[],"diffFields":[],)"
    R"("changedFields":["0x12"]},"Name":"Acme","BillingAddress":{"Street":null,"City":"Paris"},)"
    R"("AnnualRevenue":12.5,"LastModifiedDate":1795714200123})";

template <typename Fn>
void measure(const char* event, const char* what, long events, Fn fn) {
  for (long i = 0; i < events / 10; ++i) {
    fn();  // warm-up
  }
  const long before = allocations.load();
  const double start = cpu_ns();
  for (long i = 0; i < events; ++i) {
    fn();
  }
  const double ns = (cpu_ns() - start) / static_cast<double>(events);
  std::printf("event=%s path=%s events=%ld cpu_ns_per_event=%.0f allocations_per_event=%.2f\n",
              event, what, events, ns,
              static_cast<double>(allocations.load() - before) / static_cast<double>(events));
}

void run(const char* event, const char* topic, const char* schema_json, const char* record,
         long events) {
  const auto schema = sfkb::avro::Schema::parse(schema_json).value();
  const std::string payload = sfkb::avro::encode_json(schema, record).value();
  const sfkb::avro::JsonOptions options{.omit_nulls = std::string(topic).starts_with("/data/")};
  measure(event, "tree", events, [&] {
    auto value = sfkb::avro::decode(schema, payload);
    auto json = sfkb::avro::to_json(schema, *value, options);
    if (!json) {
      std::abort();
    }
  });
  measure(event, "transcode", events, [&] {
    std::string json;
    if (!sfkb::avro::transcode_to_json(schema, payload, options, json)) {
      std::abort();
    }
  });
  measure(event, "event", events, [&] {
    auto decoded = sfkb::pubsub::decode_event(topic, schema, "uuid-1", "schema-1", payload,
                                              std::string_view("\0\0\0\0\0\0\0\x02", 8));
    if (!decoded) {
      std::abort();
    }
  });
}

}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

int main(int argc, char** argv) {
  long events = 1'000'000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--events") {
      events = std::atol(argv[i + 1]);
    }
  }
  run("platform", "/event/A__e", kPlatform, kPlatformRecord, events);
  run("change", "/data/AccountChangeEvent", kChange, kChangeRecord, events);
  return 0;
}
