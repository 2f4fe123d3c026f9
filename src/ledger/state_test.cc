#include "ledger/state.h"

#include <gtest/gtest.h>

#include <vector>

namespace cc {
namespace {

using KV = std::vector<std::pair<std::string, std::string>>;

KV ScanAll(const StateReader& r, std::string_view prefix, std::string_view start = "",
           size_t stop_after = SIZE_MAX) {
  KV out;
  r.Scan(prefix, start, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return out.size() < stop_after;
  });
  return out;
}

MemState Base() {
  MemState m;
  m.Apply({{"a/1", std::string("base1")},
           {"a/3", std::string("base3")},
           {"a/5", std::string("base5")},
           {"a/7", std::string("base7")},
           {"b/1", std::string("other")},
           {"a", std::string("just-a")}});
  return m;
}

TEST(MemState, GetScanApply) {
  MemState m = Base();
  EXPECT_EQ(m.Get("a/1"), "base1");
  EXPECT_FALSE(m.Get("a/2").has_value());
  EXPECT_EQ(ScanAll(m, "a/"), (KV{{"a/1", "base1"}, {"a/3", "base3"}, {"a/5", "base5"}, {"a/7", "base7"}}));
  EXPECT_EQ(ScanAll(m, "a/", "a/4"), (KV{{"a/5", "base5"}, {"a/7", "base7"}}));
  EXPECT_EQ(ScanAll(m, "a/", "", 2).size(), 2u);
  EXPECT_EQ(ScanAll(m, "c/"), KV{});
  m.Apply({{"a/1", std::nullopt}, {"a/3", std::string("new")}});
  EXPECT_FALSE(m.Get("a/1").has_value());
  EXPECT_EQ(m.Get("a/3"), "new");
  EXPECT_EQ(m.entries().size(), 5u);
  // Scanning everything.
  EXPECT_EQ(ScanAll(m, "").size(), 5u);
}

TEST(Overlay, GetPrefersWritesAndSeesDeletions) {
  MemState base = Base();
  Overlay o(&base);
  EXPECT_EQ(o.Get("a/1"), "base1");
  o.Put("a/1", "mine");
  o.Put("a/2", "new");
  o.Delete("a/3");
  o.Delete("a/4");  // never existed
  EXPECT_EQ(o.Get("a/1"), "mine");
  EXPECT_EQ(o.Get("a/2"), "new");
  EXPECT_FALSE(o.Get("a/3").has_value());
  EXPECT_FALSE(o.Get("a/4").has_value());
  EXPECT_EQ(o.Get("a/5"), "base5");
  // The base is untouched.
  EXPECT_EQ(base.Get("a/1"), "base1");
  EXPECT_EQ(base.Get("a/3"), "base3");
  // Put after Delete revives; Delete after Put removes.
  o.Delete("a/2");
  EXPECT_FALSE(o.Get("a/2").has_value());
  o.Put("a/3", "back");
  EXPECT_EQ(o.Get("a/3"), "back");
  EXPECT_EQ(o.writes().size(), 4u);
}

TEST(Overlay, ScanMergesInKeyOrder) {
  MemState base = Base();
  Overlay o(&base);
  o.Put("a/0", "w0");     // before every base key
  o.Put("a/3", "w3");     // replaces
  o.Delete("a/5");        // hides
  o.Put("a/6", "w6");     // between base keys
  o.Put("a/9", "w9");     // after every base key
  o.Put("b/0", "wb");     // other prefix
  o.Delete("a/8");        // deleting an absent key shows nothing
  EXPECT_EQ(ScanAll(o, "a/"),
            (KV{{"a/0", "w0"}, {"a/1", "base1"}, {"a/3", "w3"}, {"a/6", "w6"}, {"a/7", "base7"}, {"a/9", "w9"}}));
  EXPECT_EQ(ScanAll(o, "b/"), (KV{{"b/0", "wb"}, {"b/1", "other"}}));
  EXPECT_EQ(ScanAll(o, "z/"), KV{});
}

TEST(Overlay, ScanFromAStartKey) {
  MemState base = Base();
  Overlay o(&base);
  o.Put("a/2", "w2");
  o.Delete("a/5");
  o.Put("a/6", "w6");
  EXPECT_EQ(ScanAll(o, "a/", "a/3"), (KV{{"a/3", "base3"}, {"a/6", "w6"}, {"a/7", "base7"}}));
  EXPECT_EQ(ScanAll(o, "a/", "a/2"), (KV{{"a/2", "w2"}, {"a/3", "base3"}, {"a/6", "w6"}, {"a/7", "base7"}}));
  EXPECT_EQ(ScanAll(o, "a/", "a/4"), (KV{{"a/6", "w6"}, {"a/7", "base7"}}));
  EXPECT_EQ(ScanAll(o, "a/", "a/8"), KV{});
  // Start after the last key, with a write beyond the base.
  o.Put("a/99", "w99");
  EXPECT_EQ(ScanAll(o, "a/", "a/8"), (KV{{"a/99", "w99"}}));
}

TEST(Overlay, ScanStopsEarly) {
  MemState base = Base();
  Overlay o(&base);
  o.Put("a/0", "w0");
  o.Put("a/4", "w4");
  o.Put("a/9", "w9");
  const KV all = ScanAll(o, "a/");
  ASSERT_EQ(all.size(), 7u);
  // Stopping after every possible count: exactly that many, a prefix of the full scan.
  for (size_t n = 1; n <= all.size(); ++n) {
    KV got = ScanAll(o, "a/", "", n);
    ASSERT_EQ(got.size(), n) << n;
    EXPECT_TRUE(std::equal(got.begin(), got.end(), all.begin())) << n;
  }
}

TEST(Overlay, ScanStopsEarlyOnAnOverwrittenKey) {
  MemState base = Base();
  Overlay o(&base);
  o.Put("a/1", "w1");
  EXPECT_EQ(ScanAll(o, "a/", "", 1), (KV{{"a/1", "w1"}}));
}

TEST(Overlay, ScanOverAnEmptyBase) {
  MemState empty;
  Overlay o(&empty);
  o.Put("x/2", "2");
  o.Put("x/1", "1");
  o.Delete("x/3");
  o.Put("y/1", "y");
  EXPECT_EQ(ScanAll(o, "x/"), (KV{{"x/1", "1"}, {"x/2", "2"}}));
  EXPECT_EQ(ScanAll(o, "x/", "", 1), (KV{{"x/1", "1"}}));
}

TEST(Overlay, NestedOverlaysAndAbsorb) {
  MemState base = Base();
  Overlay block(&base);
  block.Put("a/2", "block");
  Overlay tx(&block);
  tx.Put("a/4", "tx");
  tx.Delete("a/1");
  EXPECT_EQ(tx.Get("a/2"), "block");
  EXPECT_EQ(ScanAll(tx, "a/"),
            (KV{{"a/2", "block"}, {"a/3", "base3"}, {"a/4", "tx"}, {"a/5", "base5"}, {"a/7", "base7"}}));
  // Discarding `tx` leaves `block` as it was.
  EXPECT_EQ(block.Get("a/1"), "base1");
  block.Absorb(std::move(tx));
  EXPECT_FALSE(block.Get("a/1").has_value());
  EXPECT_EQ(block.Get("a/4"), "tx");
  EXPECT_EQ(block.writes().size(), 3u);
  // Applying the writes to the base gives what the overlay showed.
  const KV shown = ScanAll(block, "");
  base.Apply(block.writes());
  EXPECT_EQ(ScanAll(base, ""), shown);
}

TEST(CachedReader, ReadsThroughAndFollowsApply) {
  MemState base = Base();
  CachedReader c(&base, /*capacity=*/4);
  EXPECT_EQ(c.Get("a/1"), "base1");
  EXPECT_FALSE(c.Get("a/2").has_value());
  // A commit: the base and the cache get the same writes.
  WriteSet w = {{"a/1", std::nullopt}, {"a/2", std::string("two")}};
  base.Apply(w);
  c.Apply(w);
  EXPECT_FALSE(c.Get("a/1").has_value());
  EXPECT_EQ(c.Get("a/2"), "two");
  // Past its capacity it still answers correctly.
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(c.Get("a/3"), "base3");
    EXPECT_FALSE(c.Get("zz/" + std::to_string(i)).has_value());
  }
  EXPECT_EQ(ScanAll(c, "a/"), ScanAll(base, "a/"));
}

}  // namespace
}  // namespace cc
