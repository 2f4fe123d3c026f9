#include "util/bytes.h"

#include <gtest/gtest.h>

#include "util/status.h"

namespace cc {
namespace {

TEST(Hex, RoundTripsEveryByteValue) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  std::string hex = ToHex(all);
  ASSERT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(504), "fcfdfeff");
  auto back = FromHex(hex);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, all);
}

TEST(Hex, EmptyIsEmpty) {
  EXPECT_EQ(ToHex(Bytes{}), "");
  auto b = FromHex("");
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->empty());
}

TEST(Hex, AcceptsUpperAndMixedCase) {
  auto b = FromHex("DEADbeefAbCd");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*b, (Bytes{0xde, 0xad, 0xbe, 0xef, 0xab, 0xcd}));
  // Output is always lower case.
  EXPECT_EQ(ToHex(*b), "deadbeefabcd");
}

TEST(Hex, RejectsOddLength) {
  EXPECT_FALSE(FromHex("a").has_value());
  EXPECT_FALSE(FromHex("abc").has_value());
}

TEST(Hex, RejectsNonHexDigits) {
  for (std::string s : {"0g", "g0", "zz", " 0", "0 ", "0x", "-1", "++", "ab\xff" "f", "/0", ":0",
                        "@0", "`0", "G0", "0F0F0f0H"}) {
    ASSERT_EQ(s.size() % 2, 0u) << s;
    EXPECT_FALSE(FromHex(s).has_value()) << s;
  }
  // An embedded NUL is not a digit.
  EXPECT_FALSE(FromHex(std::string("0\0", 2)).has_value());
  // A single bad digit in a long otherwise valid string.
  std::string long_hex(200, 'a');
  long_hex[137] = 'G';
  EXPECT_FALSE(FromHex(long_hex).has_value());
}

TEST(BigEndian64, RoundTripsAndSortsByNumber) {
  for (uint64_t v : {0ull, 1ull, 255ull, 256ull, 0x0102030405060708ull, ~0ull}) {
    std::string s;
    AppendBigEndian64(&s, v);
    ASSERT_EQ(s.size(), 8u);
    EXPECT_EQ(ReadBigEndian64(reinterpret_cast<const uint8_t*>(s.data())), v);
  }
  std::string a, b;
  AppendBigEndian64(&a, 255);
  AppendBigEndian64(&b, 256);
  EXPECT_LT(a, b);  // byte order == numeric order
  std::string c;
  AppendBigEndian64(&c, 0x0102030405060708ull);
  EXPECT_EQ(ToHex(AsBytes(c)), "0102030405060708");
}

TEST(Status, CodesAndMessages) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.ToString(), "ok");
  Status s = Status::TooLarge("big");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kTooLarge);
  EXPECT_EQ(s.ToString(), "too_large: big");
  EXPECT_EQ(CodeName(Code::kFailedPrecondition), "failed_precondition");
  Result<std::string> r = std::string("seven");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "seven");
  EXPECT_TRUE(r.status().ok());
  Result<std::string> e = Status::NotFound("x");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kNotFound);
}

TEST(Bytes, ZeroPaddedSortsByNumber) {
  EXPECT_EQ(ZeroPadded(42, 6), "000042");
  EXPECT_EQ(ZeroPadded(0, 3), "000");
  EXPECT_EQ(ZeroPadded(1234567, 4), "1234567");  // wider: not cut
  EXPECT_EQ(ZeroPadded(UINT64_MAX, 20), "18446744073709551615");
  EXPECT_LT(ZeroPadded(9, 8), ZeroPadded(10, 8));
}

}  // namespace
}  // namespace cc
