#include "codec/varint.h"

#include <gtest/gtest.h>

#include "codec/canonical_json.h"

namespace cc::codec {
namespace {

TEST(Varint, RoundTripsBoundaries) {
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 16383ull, 16384ull, (1ull << 32), ~0ull}) {
    std::string s;
    AppendVarint(&s, v);
    Reader r(s);
    uint64_t got = 0;
    ASSERT_TRUE(r.Varint("v", &got).ok()) << v;
    EXPECT_EQ(got, v);
    EXPECT_TRUE(r.Finish().ok());
  }
}

TEST(Varint, RejectsNonMinimal) {
  Reader r(std::string("\x80\x00", 2));  // 0 in two bytes
  uint64_t v;
  Status s = r.Varint("v", &v);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("non-minimal"), std::string::npos);
}

TEST(Varint, RejectsOverflowAndTruncation) {
  std::string over(9, '\xff');
  over += '\x02';  // 2^64 and more
  uint64_t v;
  EXPECT_FALSE(Reader(over).Varint("v", &v).ok());
  EXPECT_FALSE(Reader(std::string("\x80", 1)).Varint("v", &v).ok());
  std::string max(9, '\xff');
  max += '\x01';
  Reader r(max);
  ASSERT_TRUE(r.Varint("v", &v).ok());
  EXPECT_EQ(v, ~0ull);
}

TEST(Reader, BytesRespectsLimitAndTrailingInput) {
  Writer w;
  w.Bytes(std::string_view("hello"));
  std::string_view out;
  EXPECT_EQ(Reader(w.data()).Bytes("b", 4, &out).code(), Code::kTooLarge);
  Reader ok(w.data());
  ASSERT_TRUE(ok.Bytes("b", 5, &out).ok());
  EXPECT_EQ(out, "hello");
  Reader trailing(w.data() + "x");
  ASSERT_TRUE(trailing.Bytes("b", 5, &out).ok());
  EXPECT_FALSE(trailing.Finish().ok());
}

TEST(CanonicalJson, AcceptsOnlyTheCanonicalForm) {
  EXPECT_TRUE(ParseCanonicalJson(R"({"a":1,"b":"x"})").ok());
  EXPECT_FALSE(ParseCanonicalJson(R"({"b":"x","a":1})").ok());   // unsorted
  EXPECT_FALSE(ParseCanonicalJson(R"({"a": 1})").ok());           // whitespace
  EXPECT_FALSE(ParseCanonicalJson(R"({"a":1.5})").ok());          // float
  EXPECT_FALSE(ParseCanonicalJson(R"({"a":1,"a":2})").ok());      // duplicate
  EXPECT_FALSE(ParseCanonicalJson(R"({"a":"\u0041"})").ok());     // needless escape
  EXPECT_FALSE(ParseCanonicalJson(R"([1])").ok());                // not an object
  EXPECT_FALSE(ParseCanonicalJson("{\"a\":\"\xff\"}").ok());      // bad UTF-8
}

TEST(CanonicalJson, ToCanonicalSortsKeys) {
  auto j = nlohmann::json::parse(R"({"z": 1, "a": {"y": [1, 2], "b": true}})");
  auto s = ToCanonicalJson(j);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, R"({"a":{"b":true,"y":[1,2]},"z":1})");
  EXPECT_TRUE(ParseCanonicalJson(*s).ok());
}

}  // namespace
}  // namespace cc::codec
