// supply::Parse on arbitrary text: what a pharmacy's scanner or a patient's
// phone sends for a pack's code (element string, bracketed form or GS1
// Digital Link).
//
// Properties: a parsed code has a 14-digit GTIN with a right check digit, a
// serial and batch of 1..20 / 0..20 characters of set 82, a valid expiry if
// any; and each of its three printed forms parses back to the same code.
#include <cstdint>

#include "apps/supply/gs1.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cc::supply;
  auto c = Parse(cc::fuzz::AsText(data, size));
  if (!c.ok()) return 0;
  FUZZ_CHECK(c->gtin.size() == 14 && NormalizeGtin(c->gtin).ok(), "a valid GTIN-14");
  FUZZ_CHECK(!c->serial.empty() && c->serial.size() <= kMaxSerialLen && IsCset82(c->serial), "a valid serial");
  FUZZ_CHECK(c->batch.size() <= kMaxBatchLen && IsCset82(c->batch), "a valid batch");
  FUZZ_CHECK(c->expiry.empty() || ExpiryDay(c->expiry).ok(), "a valid expiry");
  auto hr = Parse(ToHumanReadable(*c));
  auto es = Parse(ToElementString(*c));
  auto dl = Parse(ToDigitalLink(*c));
  FUZZ_CHECK(es.ok() && *es == *c, "the element string parses back");
  FUZZ_CHECK(dl.ok() && *dl == *c, "the Digital Link parses back");
  // The bracketed form is ambiguous when a value itself holds "(NN)".
  if (c->serial.find('(') == std::string::npos && c->batch.find('(') == std::string::npos)
    FUZZ_CHECK(hr.ok() && *hr == *c, "the bracketed form parses back");
  return 0;
}
