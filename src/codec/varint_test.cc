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
  // The input must outlive the Reader (it keeps a view): a temporary here
  // would leave it reading freed memory.
  const std::string in("\x80\x00", 2);  // 0 in two bytes
  Reader r(in);
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
  const std::string with_extra = w.data() + "x";
  Reader trailing(with_extra);
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

TEST(Varint, EncodedLengths) {
  auto len = [](uint64_t v) {
    std::string s;
    AppendVarint(&s, v);
    return s.size();
  };
  EXPECT_EQ(len(0), 1u);
  EXPECT_EQ(len(127), 1u);
  EXPECT_EQ(len(128), 2u);
  EXPECT_EQ(len(16383), 2u);
  EXPECT_EQ(len(16384), 3u);
  EXPECT_EQ(len(~0ull), 10u);
  std::string s;
  AppendVarint(&s, 300);
  EXPECT_EQ(s, std::string("\xac\x02", 2));
}

TEST(Varint, RejectsEveryNonMinimalForm) {
  uint64_t v;
  // A trailing zero group after any non-empty prefix: 1 padded, 127 padded,
  // and a three-byte form of a two-byte number.
  for (const std::string& in : {std::string("\x81\x00", 2), std::string("\xff\x00", 2),
                               std::string("\x80\x80\x00", 3), std::string("\xac\x82\x00", 3)}) {
    Status s = Reader(in).Varint("field_x", &v);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << ToHex(AsBytes(in));
    EXPECT_NE(s.message().find("field_x"), std::string::npos) << s.message();
  }
}

TEST(Varint, RejectsTenthByteOverflowAndElevenBytes) {
  uint64_t v;
  std::string ten(9, '\x80');
  ten += '\x81';  // continuation bit set on the tenth byte
  EXPECT_FALSE(Reader(ten).Varint("v", &v).ok());
  std::string eleven(10, '\xff');
  eleven += '\x01';
  EXPECT_FALSE(Reader(eleven).Varint("v", &v).ok());
  std::string truncated(9, '\xff');  // continuation with nothing after
  Status s = Reader(truncated).Varint("v", &v);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("truncated"), std::string::npos);
}

TEST(Reader, EveryTruncationOfAWriterOutputFails) {
  Writer w;
  w.U8(7).Varint(1234567).Fixed(AsBytes(std::string_view("0123456789abcdef"))).Bytes(std::string_view("payload"));
  const std::string full = w.data();
  for (size_t n = 0; n < full.size(); ++n) {
    const std::string cut = full.substr(0, n);
    Reader r(cut);
    uint8_t u8;
    uint64_t var;
    std::string_view fixed, bytes;
    Status s = r.U8("u8", &u8);
    if (s.ok()) s = r.Varint("var", &var);
    if (s.ok()) s = r.Fixed("fixed", 16, &fixed);
    if (s.ok()) s = r.Bytes("bytes", 100, &bytes);
    if (s.ok()) s = r.Finish();
    EXPECT_FALSE(s.ok()) << "prefix of " << n << " bytes decoded";
  }
  Reader r(full);
  uint8_t u8;
  uint64_t var;
  std::string_view fixed, bytes;
  ASSERT_TRUE(r.U8("u8", &u8).ok());
  ASSERT_TRUE(r.Varint("var", &var).ok());
  ASSERT_TRUE(r.Fixed("fixed", 16, &fixed).ok());
  ASSERT_TRUE(r.Bytes("bytes", 100, &bytes).ok());
  EXPECT_TRUE(r.Finish().ok());
  EXPECT_EQ(u8, 7);
  EXPECT_EQ(var, 1234567u);
  EXPECT_EQ(fixed, "0123456789abcdef");
  EXPECT_EQ(bytes, "payload");
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.position(), full.size());
}

TEST(Reader, LengthPastTheEndIsTruncationNotAnAllocation) {
  std::string in;
  AppendVarint(&in, 1000000);  // claims a megabyte
  in += "abc";
  std::string_view out;
  Status s = Reader(in).Bytes("b", 2000000, &out);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("truncated"), std::string::npos);
}

TEST(CanonicalJson, RejectsNonCanonicalNumbersAndNesting) {
  EXPECT_FALSE(ParseCanonicalJson(R"({"a":1e3})").ok());
  EXPECT_FALSE(ParseCanonicalJson(R"({"a":-0})").ok());
  EXPECT_FALSE(ParseCanonicalJson(R"({"a":01})").ok());
  EXPECT_FALSE(ParseCanonicalJson(R"({"a":1.0})").ok());
  EXPECT_FALSE(ParseCanonicalJson(R"({"a":18446744073709551616})").ok());  // 2^64
  EXPECT_TRUE(ParseCanonicalJson(R"({"a":18446744073709551615})").ok());
  EXPECT_TRUE(ParseCanonicalJson(R"({"a":-5})").ok());
  EXPECT_FALSE(ParseCanonicalJson("{\"a\":1}\n").ok());  // trailing newline
  EXPECT_FALSE(ParseCanonicalJson("").ok());
  std::string deep = "{\"a\":";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  deep += "}";
  EXPECT_FALSE(ParseCanonicalJson(deep).ok());
  EXPECT_FALSE(ToCanonicalJson(nlohmann::json::array()).ok());
  EXPECT_FALSE(ToCanonicalJson(nlohmann::json{{"x", 0.5}}).ok());
  EXPECT_FALSE(ToCanonicalJson(nlohmann::json{{"x", {{"y", {1, 2.5}}}}}).ok());
}

}  // namespace
}  // namespace cc::codec
