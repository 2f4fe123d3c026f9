#include "util/env.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "testing/test_util.h"

namespace cc {
namespace {

using testing::TempDir;

unsigned ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Sets a umask for the scope of a test and restores the old one.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t m) : old_(::umask(m)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST(WriteFileAtomic, WritesExactly0600EvenUnderAPermissiveUmask) {
  TempDir dir;
  ScopedUmask umask(0);  // open() alone would give whatever we ask; check no extra bits
  const std::string p = dir.file("secret.key");
  ASSERT_TRUE(WriteFileAtomic(p, "s3cret", 0600, /*overwrite=*/false).ok());
  EXPECT_EQ(ModeOf(p), 0600u);
  auto r = ReadFile(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "s3cret");
}

TEST(WriteFileAtomic, WritesExactModeEvenUnderARestrictiveUmask) {
  TempDir dir;
  ScopedUmask umask(0077);  // would strip 0644 down to 0600 without fchmod
  const std::string p = dir.file("genesis.json");
  ASSERT_TRUE(WriteFileAtomic(p, "{}", 0644, false).ok());
  EXPECT_EQ(ModeOf(p), 0644u);
}

TEST(WriteFileAtomic, RefusesToOverwriteUnlessAsked) {
  TempDir dir;
  const std::string p = dir.file("f");
  ASSERT_TRUE(WriteFileAtomic(p, "first", 0600, false).ok());
  Status s = WriteFileAtomic(p, "second", 0600, false);
  EXPECT_EQ(s.code(), Code::kAlreadyExists);
  EXPECT_EQ(*ReadFile(p), "first");
  ASSERT_TRUE(WriteFileAtomic(p, "second", 0600, /*overwrite=*/true).ok());
  EXPECT_EQ(*ReadFile(p), "second");
  EXPECT_EQ(ModeOf(p), 0600u);
}

TEST(WriteFileAtomic, OverwriteResetsModeAndLeavesNoTempFile) {
  TempDir dir;
  const std::string p = dir.file("f");
  ASSERT_TRUE(WriteFileAtomic(p, "a", 0644, false).ok());
  ASSERT_TRUE(WriteFileAtomic(p, "b", 0600, true).ok());
  EXPECT_EQ(ModeOf(p), 0600u);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(e.path().filename(), "f");
  }
  EXPECT_EQ(files, 1u);
}

TEST(WriteFileAtomic, DoesNotFollowALinkPlantedAtTheOldTempName) {
  // Regression: the temp file used to be "<path>.tmp", opened without
  // O_EXCL/O_NOFOLLOW, so a symlink planted there redirected the write.
  TempDir dir;
  const std::string p = dir.file("key");
  const std::string victim = dir.file("victim");
  ASSERT_TRUE(WriteFileAtomic(victim, "keep", 0600, false).ok());
  std::filesystem::create_symlink(victim, p + ".tmp");
  ASSERT_TRUE(WriteFileAtomic(p, "secret", 0600, false).ok());
  EXPECT_EQ(*ReadFile(victim), "keep");
  EXPECT_EQ(*ReadFile(p), "secret");
  // A refused no-clobber write leaves no temp file behind.
  EXPECT_EQ(WriteFileAtomic(p, "again", 0600, false).code(), Code::kAlreadyExists);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 3u);  // key, victim, the planted link
}

TEST(WriteFileAtomic, WritesBinaryAndEmptyData) {
  TempDir dir;
  std::string bin("\0\x01\xff\n\0", 5);
  ASSERT_TRUE(WriteFileAtomic(dir.file("bin"), bin, 0600, false).ok());
  EXPECT_EQ(*ReadFile(dir.file("bin")), bin);
  ASSERT_TRUE(WriteFileAtomic(dir.file("empty"), "", 0600, false).ok());
  EXPECT_EQ(*ReadFile(dir.file("empty")), "");
}

TEST(WriteFileAtomic, FailsInAMissingFolder) {
  TempDir dir;
  Status s = WriteFileAtomic(dir.file("no/such/folder/f"), "x", 0600, false);
  EXPECT_EQ(s.code(), Code::kIOError);
}

TEST(ReadFile, MissingFileIsNotFound) {
  TempDir dir;
  auto r = ReadFile(dir.file("missing"));
  EXPECT_EQ(r.status().code(), Code::kNotFound);
}

TEST(ManualClock, AdvancesOnlyByHand) {
  ManualClock c(1000);
  EXPECT_EQ(c.NowMs(), 1000u);
  EXPECT_EQ(c.MonotonicUs(), 1000000u);
  c.Advance(5);
  EXPECT_EQ(c.NowMs(), 1005u);
  EXPECT_GT(Clock::System()->NowMs(), 1600000000000ull);  // after 2020
}

}  // namespace
}  // namespace cc
