#include "apps/supply/gs1.h"

#include <gtest/gtest.h>

namespace cc::supply {
namespace {

// GS1's own example GTIN (General Specifications) and an EAN-13 in trade.
const PackCode kPack{"09506000134352", "XYZ123", "A1B2", "261231"};

void ExpectRefused(std::string_view code, std::string_view message_part) {
  auto r = Parse(code);
  ASSERT_FALSE(r.ok()) << code;
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << code;
  EXPECT_NE(r.status().message().find(message_part), std::string::npos) << code << " -> " << r.status().message();
}

TEST(Gs1, CheckDigits) {
  EXPECT_EQ(GtinCheckDigit("0950600013435"), '2');
  EXPECT_EQ(GtinCheckDigit("0400638133393"), '1');
  EXPECT_EQ(GtinCheckDigit("0000000000000"), '0');
  EXPECT_EQ(*NormalizeGtin("4006381333931"), "04006381333931");  // EAN-13
  EXPECT_EQ(*NormalizeGtin("96385074"), "00000096385074");       // EAN-8
  EXPECT_EQ(*NormalizeGtin("09506000134352"), "09506000134352");
  auto wrong = NormalizeGtin("09506000134353");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("check digit (expected 2)"), std::string::npos);
  EXPECT_FALSE(NormalizeGtin("950600013435").ok());   // 12 digits, wrong check digit for UPC-A
  EXPECT_FALSE(NormalizeGtin("0950600013435").ok());  // 13: its last digit is not the check digit
  EXPECT_FALSE(NormalizeGtin("095060001343521").ok());
  EXPECT_FALSE(NormalizeGtin("0950600013435a").ok());
}

TEST(Gs1, TheThreeFormsParseToTheSamePack) {
  const char gs = '\x1d';
  for (const std::string& code :
       {std::string("(01)09506000134352(17)261231(10)A1B2(21)XYZ123"),
        std::string("(01)09506000134352(21)XYZ123(10)A1B2(17)261231"),
        std::string("]d2") + "0109506000134352" + "17261231" + "10A1B2" + gs + "21XYZ123",
        "]Q3" + std::string(1, gs) + "010950600013435221XYZ123" + std::string(1, gs) + "17261231" + "10A1B2",
        std::string("0109506000134352") + "21XYZ123" + gs + "10A1B2" + gs + "17261231",
        std::string("https://id.gs1.org/01/09506000134352/10/A1B2/21/XYZ123?17=261231"),
        std::string("https://example.com/some/resolver/01/9506000134352/10/A1B2/21/XYZ123?linkType=all&17=261231"),
        std::string("http://id.gs1.org/01/09506000134352/22/2A/10/A1B2/21/XYZ123?17=261231#x")}) {
    auto p = Parse(code);
    ASSERT_TRUE(p.ok()) << code << ": " << p.status().ToString();
    EXPECT_EQ(*p, kPack) << code;
  }
}

TEST(Gs1, FormattingRoundTrips) {
  for (const PackCode& c : {kPack, PackCode{"04006381333931", "S/1%2?&x", "", ""},
                            PackCode{"09506000134352", "12345678901234567890", "L-7", "270200"}}) {
    EXPECT_EQ(*Parse(ToHumanReadable(c)), c) << ToHumanReadable(c);
    EXPECT_EQ(*Parse(ToElementString(c)), c);
    auto dl = Parse(ToDigitalLink(c));
    ASSERT_TRUE(dl.ok()) << ToDigitalLink(c) << ": " << dl.status().ToString();
    EXPECT_EQ(*dl, c) << ToDigitalLink(c);
  }
  EXPECT_EQ(ToHumanReadable(kPack), "(01)09506000134352(17)261231(10)A1B2(21)XYZ123");
  EXPECT_EQ(ToDigitalLink(kPack), "https://id.gs1.org/01/09506000134352/10/A1B2/21/XYZ123?17=261231");
  EXPECT_EQ(ToDigitalLink(PackCode{"04006381333931", "S/1", "", ""}), "https://id.gs1.org/01/04006381333931/21/S%2F1");
}

TEST(Gs1, MalformedCodesAreRefusedWithTheReason) {
  ExpectRefused("", "empty");
  ExpectRefused("(01)09506000134353(21)X", "check digit");
  ExpectRefused("(01)09506000134352", "needs (01) GTIN and (21) serial");
  ExpectRefused("(21)XYZ", "needs (01) GTIN and (21) serial");
  ExpectRefused("(01)09506000134352(21)A(21)B", "appears twice");
  ExpectRefused("(01)09506000134352(99)A(21)B", "unsupported Application Identifier (99)");
  ExpectRefused("(01)0950600013435(21)A", "must have 14 digits");
  ExpectRefused("(01)09506000134352(21)123456789012345678901", "longer than 20");
  ExpectRefused("(01)09506000134352(21)A B", "set 82");
  ExpectRefused("(01)09506000134352(21)A#B", "set 82");
  ExpectRefused("(01)09506000134352(21)", "is empty");
  ExpectRefused("(01)09506000134352(17)261331(21)A", "month 13");
  ExpectRefused("(01)09506000134352(17)250230(21)A", "day 30 in a month of 28 days");
  ExpectRefused("(01)09506000134352(17)2612(21)A", "must have 6 digits");
  ExpectRefused("(01)09506000134352(17)26123X(21)A", "must be digits");
  ExpectRefused("01095060001343", "must have 14 digits");
  ExpectRefused("0109506000134352\x1d\x1d", "malformed Application Identifier");
  ExpectRefused("(01", "unclosed");
  ExpectRefused("https://id.gs1.org", "no path");
  ExpectRefused("https://id.gs1.org/21/XYZ", "no /01/");
  ExpectRefused("https://id.gs1.org/01/09506000134352/21", "without a value");
  ExpectRefused("https://id.gs1.org/01/09506000134352/21/A%2", "%-escape");
  ExpectRefused("https://id.gs1.org/01/09506000134352/21/A%zz", "%-escape");
  ExpectRefused("https://id.gs1.org/01/09506000134352/99/x/21/A", "unsupported");
  ExpectRefused(std::string(600, '0'), "longer than 512");
}

TEST(Gs1, ExpiryDays) {
  EXPECT_EQ(*ExpiryDay("000101"), 10957);  // 2000-01-01
  EXPECT_EQ(*ExpiryDay("240200"), 19782);  // DD 00: the month's last day, 2024-02-29
  EXPECT_EQ(*ExpiryDay("261231"), 20818);
  EXPECT_EQ(*ExpiryDay("261200"), 20818);
  EXPECT_FALSE(ExpiryDay("230229").ok());  // not a leap year
  EXPECT_TRUE(ExpiryDay("240229").ok());
  EXPECT_FALSE(ExpiryDay("241301").ok());
  EXPECT_FALSE(ExpiryDay("24010").ok());
}

}  // namespace
}  // namespace cc::supply
