#include "ledger/schema.h"

#include <gtest/gtest.h>

namespace cc {
namespace {

using nlohmann::json;

// Parses like the executor does, so that numbers are unsigned as on the wire.
json J(const char* text) { return json::parse(text); }

TEST(Schema, StringField) {
  PayloadSchema s;
  s.String("name", 5);
  EXPECT_TRUE(s.Check(J(R"({"name":"a"})")).ok());
  EXPECT_TRUE(s.Check(J(R"({"name":"abcde"})")).ok());
  EXPECT_TRUE(s.Check(J(R"({"name":"äö"})")).ok());  // 4 bytes
  EXPECT_FALSE(s.Check(J(R"({"name":"äöü"})")).ok());  // 6 bytes: the limit is in bytes
  EXPECT_FALSE(s.Check(J(R"({"name":""})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"name":"abcdef"})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"name":5})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"name":null})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"name":["a"]})")).ok());
  Status st = s.Check(J(R"({})"));
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("missing field 'name'"), std::string::npos);
}

TEST(Schema, HexField) {
  PayloadSchema s;
  s.Hex("h", 2);
  EXPECT_TRUE(s.Check(J(R"({"h":"0a1f"})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"h":"0A1F"})")).ok());  // lower case only
  EXPECT_FALSE(s.Check(J(R"({"h":"0a1"})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"h":"0a1f00"})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"h":"0a1g"})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"h":""})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"h":1234})")).ok());
  Status st = s.Check(J(R"({"h":"zz"})"));
  EXPECT_NE(st.message().find("4 lower-case hex digits"), std::string::npos) << st.message();
}

TEST(Schema, EnumField) {
  PayloadSchema s;
  s.Enum("color", {"red", "green"});
  EXPECT_TRUE(s.Check(J(R"({"color":"red"})")).ok());
  EXPECT_TRUE(s.Check(J(R"({"color":"green"})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"color":"Red"})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"color":"blue"})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"color":""})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"color":1})")).ok());
  Status st = s.Check(J(R"({"color":"blue"})"));
  EXPECT_NE(st.message().find("red, green"), std::string::npos) << st.message();
}

TEST(Schema, UIntField) {
  PayloadSchema s;
  s.UInt("n", 10, 20);
  EXPECT_TRUE(s.Check(J(R"({"n":10})")).ok());
  EXPECT_TRUE(s.Check(J(R"({"n":20})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"n":9})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"n":21})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"n":-15})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"n":15.0})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"n":"15"})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"n":true})")).ok());
  PayloadSchema full;
  full.UInt("n", 0, ~0ull);
  EXPECT_TRUE(full.Check(J(R"({"n":0})")).ok());
  EXPECT_TRUE(full.Check(J(R"({"n":18446744073709551615})")).ok());
  Status st = s.Check(J(R"({"n":1})"));
  EXPECT_NE(st.message().find("[10, 20]"), std::string::npos) << st.message();
}

TEST(Schema, IdField) {
  PayloadSchema s;
  s.Id("id");
  for (const char* ok : {"a", "st-marien-hospital", "a.b_c-9", "0"}) {
    EXPECT_TRUE(s.Check(json{{"id", ok}}).ok()) << ok;
  }
  EXPECT_TRUE(s.Check(json{{"id", std::string(64, 'x')}}).ok());
  EXPECT_FALSE(s.Check(json{{"id", std::string(65, 'x')}}).ok());
  for (const char* bad : {"", "A", "with space", "slash/", "ümlaut", "semi;", "tab\t"}) {
    EXPECT_FALSE(s.Check(json{{"id", bad}}).ok()) << bad;
  }
  EXPECT_FALSE(s.Check(json{{"id", 5}}).ok());
}

TEST(Schema, OptionalFieldsAndUnknownFields) {
  PayloadSchema s;
  s.Id("id").String("note", 10, /*required=*/false).UInt("n", 0, 5, false);
  EXPECT_TRUE(s.Check(J(R"({"id":"x"})")).ok());
  EXPECT_TRUE(s.Check(J(R"({"id":"x","note":"hi","n":3})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"id":"x","note":""})")).ok());  // present: still checked
  EXPECT_FALSE(s.Check(J(R"({"id":"x","n":6})")).ok());
  Status st = s.Check(J(R"({"id":"x","extra":1})"));
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("unknown field 'extra'"), std::string::npos);
  EXPECT_FALSE(s.Check(J(R"([])")).ok());
  EXPECT_FALSE(s.Check(J(R"("x")")).ok());
  EXPECT_FALSE(s.Check(J(R"(null)")).ok());
}

TEST(Schema, EmptySchemaAcceptsOnlyTheEmptyObject) {
  PayloadSchema s;
  EXPECT_TRUE(s.Check(json::object()).ok());
  EXPECT_FALSE(s.Check(J(R"({"a":1})")).ok());
}

TEST(Schema, IntField) {
  PayloadSchema s;
  s.Int("c", -10000, 10000);
  EXPECT_TRUE(s.Check(J(R"({"c":-10000})")).ok());
  EXPECT_TRUE(s.Check(J(R"({"c":10000})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"c":-10001})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"c":10001})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"c":1.5})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"c":"5"})")).ok());
  EXPECT_FALSE(s.Check(J(R"({"c":18446744073709551615})")).ok());
  EXPECT_FALSE(s.Check(json::object()).ok());
}

}  // namespace
}  // namespace cc
