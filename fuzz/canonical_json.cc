// ParseCanonicalJson on arbitrary text: every transaction payload goes
// through it at admission and again on every node executing the block.
//
// Properties: accepted text is exactly the canonical form of what it parses
// to. And canonicalising is idempotent: the canonical form of any JSON object
// ToCanonicalJson accepts is itself accepted as canonical, unchanged.
#include "codec/canonical_json.h"

#include <cstdint>

#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cc;
  const std::string_view in = fuzz::AsText(data, size);

  auto parsed = codec::ParseCanonicalJson(in);
  if (parsed.ok()) {
    FUZZ_CHECK(parsed->is_object(), "a payload is an object");
    auto text = codec::ToCanonicalJson(*parsed);
    FUZZ_CHECK(text.ok() && *text == in, "accepted text is its own canonical form");
  }

  nlohmann::json any = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (any.is_discarded()) return 0;
  auto canonical = codec::ToCanonicalJson(any);
  if (!canonical.ok()) return 0;
  auto reparsed = codec::ParseCanonicalJson(*canonical);
  FUZZ_CHECK(reparsed.ok(), "the canonical form is accepted as canonical");
  FUZZ_CHECK(*reparsed == any, "the canonical form parses to the same value");
  FUZZ_CHECK(parsed.ok() == (*canonical == in),
             "text is accepted iff it equals its canonical form");
  return 0;
}
