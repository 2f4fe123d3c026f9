#include "cli/pack_file.h"

#include <gtest/gtest.h>

namespace cc::cli {
namespace {

using Fields = std::vector<std::string>;

TEST(PackFile, SplitsFieldsAndUnquotes) {
  EXPECT_EQ(*CsvFields("a,b,,d"), (Fields{"a", "b", "", "d"}));
  EXPECT_EQ(*CsvFields(R"("S,5",x"y,"say ""hi""")"), (Fields{"S,5", "x\"y", "say \"hi\""}));
  EXPECT_EQ(*CsvFields(""), (Fields{""}));
  auto open = CsvFields(R"(a,"b)");
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().message(), "unclosed quote");
}

TEST(PackFile, ReadsPacksInOrderOrUnderAHeader) {
  auto plain =
      ParsePacksCsv("09506000134352,S1,B1,301231\n\n9506000134352,\"S,2\",B2,300200\n", "f");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(*plain, (std::vector<supply::PackCode>{{"09506000134352", "S1", "B1", "301231"},
                                                   {"09506000134352", "S,2", "B2", "300200"}}));
  // A header in another order, CRLF line ends, an extra column.
  auto headed = ParsePacksCsv(
      "expiry,serial,note,batch,gtin\r\n301231,A/1,fragile,B1,09506000134352\r\n", "f");
  ASSERT_TRUE(headed.ok()) << headed.status().message();
  EXPECT_EQ(*headed, (std::vector<supply::PackCode>{{"09506000134352", "A/1", "B1", "301231"}}));
  EXPECT_TRUE(ParsePacksCsv("", "f")->empty());
}

TEST(PackFile, NamesTheLineAndTheProblem) {
  auto error = [](std::string_view text) {
    return ParsePacksCsv(text, "packs.csv").status().message();
  };
  EXPECT_EQ(error("09506000134352,S1,B1,301231\n09506000134353,S2,B1,301231\n"),
            "packs.csv:2: GTIN 09506000134353 has a wrong check digit (expected 2)");
  EXPECT_EQ(error("09506000134352,S1,B1\n"), "packs.csv:1: expected 4 fields, found 3");
  EXPECT_EQ(error("gtin,serial,expiry\n"), "packs.csv:1: the header names no 'batch' column");
  EXPECT_EQ(error("\n09506000134352,S1,B1,301332\n"),
            "packs.csv:2: GS1 code: (17) expiry has month 13");
  EXPECT_EQ(error("09506000134352,S 1,B1,301231\n"),
            "packs.csv:1: GS1 code: (21) holds a character outside GS1's set 82");
  EXPECT_EQ(error("09506000134352,S1,\"B1,301231\n"), "packs.csv:1: unclosed quote");
  EXPECT_EQ(error("09506000134352,ABCDEFGHIJKLMNOPQRSTU,B1,301231\n"),
            "packs.csv:1: GS1 code: (21) is longer than 20 characters");
}

}  // namespace
}  // namespace cc::cli
