#include "daemon/checkpoint/file_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace sfkb::checkpoint {
namespace {

namespace fs = std::filesystem;

core::ReplayId cometd(std::int64_t number) {
  return core::ReplayId::cometd(number);
}

class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/sfkb-checkpoint-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path() const { return (fs::path(dir_) / kDefaultFileName).string(); }
  void write_file(const std::string& content) const { std::ofstream(path()) << content; }
  std::string read_file() const {
    std::ifstream in(path());
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }

  std::string dir_;
};

TEST_F(FileStoreTest, MissingFileMeansNothingCheckpointed) {
  FileStore store(dir_);
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE(loaded->empty());
}

TEST_F(FileStoreTest, SavesTheVersionedFormatAndLoadsItBack) {
  FileStore store(dir_);
  Checkpoints saved{
      {"/event/A__e", {cometd(42), "2026-11-26T17:40:00.000Z", std::nullopt, 0, ""}},
      {"/event/B__e", {cometd(9007199254740993), "2026-11-26T17:41:00.000Z", std::nullopt, 0, ""}}};
  ASSERT_TRUE(store.save(saved));

  const std::string text = read_file();
  EXPECT_NE(text.find("\"version\": 2"), std::string::npos) << text;
  EXPECT_NE(text.find("\"/event/A__e\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"replay_id\": 42"), std::string::npos) << text;

  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ(loaded->at("/event/A__e").replay_id, cometd(42));
  EXPECT_EQ(loaded->at("/event/B__e").replay_id,
            cometd(9007199254740993));  // beyond a double's range
  EXPECT_EQ(loaded->at("/event/B__e").updated, "2026-11-26T17:41:00.000Z");
  EXPECT_FALSE(loaded->at("/event/A__e").partition.has_value());
}

TEST_F(FileStoreTest, KeepsAPinnedPartition) {
  FileStore store(dir_);
  ASSERT_TRUE(store.save({{"/event/A__e", {cometd(42), "t", 3, 0, ""}}}));
  EXPECT_NE(read_file().find("\"partition\": 3"), std::string::npos) << read_file();
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->at("/event/A__e").partition, 3);
}

TEST_F(FileStoreTest, SaveReplacesTheFileAndLeavesNoTemporaryBehind) {
  FileStore store(dir_);
  ASSERT_TRUE(store.save({{"/event/A__e", {cometd(1), "t1", std::nullopt, 0, ""}}}));
  struct stat before {};
  ASSERT_EQ(::stat(path().c_str(), &before), 0);
  ASSERT_TRUE(store.save({{"/event/A__e", {cometd(2), "t2", std::nullopt, 0, ""}}}));
  struct stat after {};
  ASSERT_EQ(::stat(path().c_str(), &after), 0);

  // A rename, not an in-place rewrite: readers never see a half-written file.
  EXPECT_NE(before.st_ino, after.st_ino);
  EXPECT_EQ(store.load()->at("/event/A__e").replay_id, cometd(2));
  EXPECT_FALSE(fs::exists(path() + ".tmp"));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir_)) {
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(FileStoreTest, AStaleTemporaryFromACrashDoesNotMatter) {
  FileStore store(dir_);
  ASSERT_TRUE(store.save({{"/event/A__e", {cometd(5), "t", std::nullopt, 0, ""}}}));
  std::ofstream(path() + ".tmp") << "{\"version\":1,\"chan";  // a crash mid-write
  EXPECT_EQ(store.load()->at("/event/A__e").replay_id, cometd(5));
  ASSERT_TRUE(store.save({{"/event/A__e", {cometd(6), "t", std::nullopt, 0, ""}}}));
  EXPECT_EQ(store.load()->at("/event/A__e").replay_id, cometd(6));
}

TEST_F(FileStoreTest, CreatesAMissingDirectory) {
  FileStore store((fs::path(dir_) / "nested" / "state").string());
  ASSERT_TRUE(store.save({{"/event/A__e", {cometd(3), "t", std::nullopt, 0, ""}}}));
  EXPECT_EQ(store.load()->at("/event/A__e").replay_id, cometd(3));
}

TEST_F(FileStoreTest, CorruptFileIsAnErrorNamingTheFile) {
  write_file("{\"version\":1,\"channels\":{\"/event/A__e\":{\"replay_id\":4");
  FileStore store(dir_);
  auto loaded = store.load();
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().kind, core::ErrorKind::kFatal);
  EXPECT_NE(loaded.error().message.find(path()), std::string::npos) << loaded.error().message;
}

TEST_F(FileStoreTest, EmptyFileIsCorruptNotEmpty) {
  write_file("");
  auto loaded = FileStore(dir_).load();
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find(path()), std::string::npos);
}

TEST_F(FileStoreTest, RestartEpochAndOrgRoundTrip) {
  FileStore store(dir_);
  Checkpoints saved{
      {"/event/A__e", {cometd(-2), "2026-11-26T17:40:00.000Z", 3, 2, "00DBBBBBBBBBBBBBBB"}},
      {"/event/B__e", {cometd(9), "2026-11-26T17:41:00.000Z", std::nullopt, 0, ""}}};
  ASSERT_TRUE(store.save(saved));
  const std::string text = read_file();
  EXPECT_NE(text.find("\"epoch\": 2"), std::string::npos) << text;
  EXPECT_NE(text.find("\"org_id\": \"00DBBBBBBBBBBBBBBB\""), std::string::npos) << text;
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->at("/event/A__e").replay_id, cometd(-2));
  EXPECT_EQ(loaded->at("/event/A__e").epoch, 2u);
  EXPECT_EQ(loaded->at("/event/A__e").org_id, "00DBBBBBBBBBBBBBBB");
  EXPECT_EQ(loaded->at("/event/B__e").epoch, 0u);  // not written when 0
  EXPECT_EQ(loaded->at("/event/B__e").org_id, "");
}

TEST_F(FileStoreTest, VersionOneFilesStillLoad) {
  write_file(
      "{\"version\":1,\"channels\":{\"/event/A__e\":{\"replay_id\":41,\"updated\":\"t\","
      "\"partition\":2}}}");
  auto loaded = FileStore(dir_).load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->at("/event/A__e").replay_id, cometd(41));
  EXPECT_EQ(loaded->at("/event/A__e").partition, 2);
  EXPECT_EQ(loaded->at("/event/A__e").epoch, 0u);
  EXPECT_EQ(loaded->at("/event/A__e").org_id, "");
}

TEST_F(FileStoreTest, UnknownVersionIsAnError) {
  write_file("{\"version\":4,\"channels\":{}}");
  auto loaded = FileStore(dir_).load();
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("unknown version 4"), std::string::npos)
      << loaded.error().message;
  EXPECT_NE(loaded.error().message.find(path()), std::string::npos);
}

TEST_F(FileStoreTest, WrongShapesAreErrors) {
  for (const char* text :
       {"[]", "{\"channels\":{}}", "{\"version\":1}",
        "{\"version\":1,\"channels\":{\"/event/A__e\":{\"replay_id\":\"7\"}}}",
        // A string position is opaque, which only version 3 has ...
        "{\"version\":2,\"channels\":{\"/event/A__e\":{\"replay_id\":\"AQ==\"}}}",
        // ... and there it must be padded base64.
        "{\"version\":3,\"channels\":{\"/event/A__e\":{\"replay_id\":\"AQ\"}}}",
        "{\"version\":1,\"channels\":{\"/event/A__e\":7}}",
        "{\"version\":1,\"channels\":{\"/event/A__e\":{\"replay_id\":7,"
        "\"partition\":-1}}}"}) {
    write_file(text);
    EXPECT_FALSE(FileStore(dir_).load()) << text;
  }
}

TEST_F(FileStoreTest, SaveIntoAnUnwritableLocationIsRetryable) {
  FileStore store("/proc/sfkb-cannot-exist");
  auto status = store.save({{"/event/A__e", {cometd(1), "t", std::nullopt, 0, ""}}});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.kind(), core::ErrorKind::kRetry);
}

TEST_F(FileStoreTest, OpaquePositionsNeedVersionThreeAndSurviveARoundTrip) {
  // Version 2 spells a position as a JSON integer; an opaque one (the Pub/Sub API's bytes, any
  // value 0-255) is a base64 string in version 3, written only when a position needs it.
  FileStore store(dir_);
  ASSERT_TRUE(store.save({{"/event/A__e", {cometd(5), "t", std::nullopt, 0, ""}}}));
  EXPECT_NE(read_file().find("\"version\": 2"), std::string::npos) << read_file();
  const auto opaque = core::ReplayId::opaque(std::string("\x00\x01\xff\x7f", 4));
  ASSERT_TRUE(store.save({{"/event/A__e", {cometd(6), "t", std::nullopt, 0, ""}},
                          {"/event/B__e", {opaque, "t", 3, 1, "00Dxx"}}}));
  EXPECT_NE(read_file().find("\"version\": 3"), std::string::npos) << read_file();
  auto loaded = store.load();
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->at("/event/A__e").replay_id, cometd(6));
  EXPECT_EQ(loaded->at("/event/B__e").replay_id, opaque);
  EXPECT_EQ(loaded->at("/event/B__e").partition, 3);
  EXPECT_EQ(loaded->at("/event/B__e").epoch, 1u);
  EXPECT_EQ(loaded->at("/event/B__e").org_id, "00Dxx");
}

TEST(Rfc3339, LooksLikeUtcWithMilliseconds) {
  std::string now = utc_now_rfc3339();
  ASSERT_EQ(now.size(), 24u) << now;
  EXPECT_EQ(now[10], 'T');
  EXPECT_EQ(now.back(), 'Z');
}

}  // namespace
}  // namespace sfkb::checkpoint
