// etcd_client against a real etcd 3.4 member (testing/etcd_server.h starts
// Debian's /usr/bin/etcd in a temp folder on free ports).
#include "ordering/etcd_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "testing/etcd_server.h"

namespace cc::etcd {
namespace {

using namespace std::chrono_literals;
using cc::testing::EtcdServer;
using cc::testing::FreePort;
using cc::testing::WaitUntil;
using SteadyClock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Fixture helpers

// One etcd member for the whole suite; each test works under its own prefix
// "/etcd-client-test/<test name>/".
class EtcdClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = EtcdServer::Start();
    if (s.ok()) {
      server_ = std::move(*s);
    } else {
      start_error_ = s.status().ToString();
    }
  }
  static void TearDownTestSuite() { server_.reset(); }  // kills etcd, removes its folder

  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "cannot start etcd: " << start_error_;
    client_ = Connect({server_->endpoint()});
    ASSERT_NE(client_, nullptr);
    prefix_ = std::string("/etcd-client-test/") +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
  }

  static std::unique_ptr<Client> Connect(std::vector<std::string> endpoints) {
    Options o;
    o.endpoints = std::move(endpoints);
    o.timeout = 3s;
    auto c = Client::Connect(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::string K(const std::string& suffix) const { return prefix_ + suffix; }

  // The single value at `key`, nullopt when absent.
  std::optional<KeyValue> Get(const std::string& key) {
    auto r = client_->Range(key, "");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->kvs.empty()) return std::nullopt;
    EXPECT_EQ(r->kvs.size(), 1u);
    return r->kvs[0];
  }

  // The store's revision now.
  int64_t Revision() {
    auto r = client_->Range(K("no-such-key"), "");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->revision : 0;
  }

  // Events from `w` until `n` have come or `within` has passed.
  static std::vector<WatchEvent> Collect(Watch& w, size_t n, std::chrono::milliseconds within = 10s) {
    std::vector<WatchEvent> events;
    const auto deadline = SteadyClock::now() + within;
    while (events.size() < n && SteadyClock::now() < deadline) {
      auto b = w.Next(200ms);
      EXPECT_TRUE(b.ok()) << b.status().ToString();
      if (!b.ok()) break;
      events.insert(events.end(), b->begin(), b->end());
    }
    return events;
  }

  // The candidates' keys of election `name` (etcd keeps them under "name/").
  size_t Candidates(const std::string& name) {
    auto r = client_->Range(name + "/", PrefixEnd(name + "/"));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->kvs.size() : 0;
  }

  int64_t Lease(int64_t ttl_s) {
    auto l = client_->GrantLease(ttl_s);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? *l : 0;
  }

  static inline std::unique_ptr<EtcdServer> server_;
  static inline std::string start_error_;
  std::unique_ptr<Client> client_;
  std::string prefix_;
};

// Campaign on a thread of its own. On destruction it cancels a campaign
// still waiting and joins, so a failed assertion cannot leave it hanging.
class BackgroundCampaign {
 public:
  BackgroundCampaign(Client* client, std::string name, int64_t lease, std::string value)
      : thread_([=, this] {
          auto r = client->Campaign(name, lease, value, &cancel_);
          std::lock_guard<std::mutex> lock(mu_);
          result_.emplace(std::move(r));
        }) {}
  ~BackgroundCampaign() {
    cancel_.Cancel();
    if (thread_.joinable()) thread_.join();
  }

  bool returned() {
    std::lock_guard<std::mutex> lock(mu_);
    return result_.has_value();
  }
  Canceller& canceller() { return cancel_; }
  // Waits for the campaign to return.
  Result<LeaderKey> Join() {
    thread_.join();
    return *result_;
  }

 private:
  Canceller cancel_;
  std::mutex mu_;
  std::optional<Result<LeaderKey>> result_;  // GUARDED_BY(mu_)
  std::thread thread_;                       // last: starts once the rest exists
};

// ---------------------------------------------------------------------------
// Keys and ranges

TEST(EtcdClientPrefixEnd, IncrementsTheLastByteBelow0xff) {
  EXPECT_EQ(PrefixEnd("a/"), "a0");
  EXPECT_EQ(PrefixEnd("a"), "b");
  EXPECT_EQ(PrefixEnd(std::string("\x01\xfe", 2)), std::string("\x01\xff", 2));
  // Trailing 0xff bytes are dropped and the byte before them incremented.
  EXPECT_EQ(PrefixEnd("a\xff"), "b");
  EXPECT_EQ(PrefixEnd("a\xff\xff"), "b");
  EXPECT_EQ(PrefixEnd(std::string("\x00\xff", 2)), std::string("\x01", 1));
  // Nothing to increment: "\0", etcd's "to the end of the key space".
  EXPECT_EQ(PrefixEnd("\xff"), std::string(1, '\0'));
  EXPECT_EQ(PrefixEnd("\xff\xff"), std::string(1, '\0'));
  EXPECT_EQ(PrefixEnd(""), std::string(1, '\0'));
}

TEST_F(EtcdClientTest, PutThenRangeReturnsValueAndRevisions) {
  ASSERT_TRUE(client_->Put(K("k"), "v1").ok());
  auto first = Get(K("k"));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->key, K("k"));
  EXPECT_EQ(first->value, "v1");
  EXPECT_GT(first->create_revision, 0);
  EXPECT_EQ(first->mod_revision, first->create_revision);

  ASSERT_TRUE(client_->Put(K("k"), "v2").ok());
  auto r = client_->Range(K("k"), "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].value, "v2");
  EXPECT_EQ(r->kvs[0].create_revision, first->create_revision);
  EXPECT_GT(r->kvs[0].mod_revision, first->mod_revision);
  EXPECT_GE(r->revision, r->kvs[0].mod_revision);
  EXPECT_FALSE(r->more);

  // end "" is the key alone, not a prefix.
  ASSERT_TRUE(client_->Put(K("k2"), "other").ok());
  EXPECT_EQ(client_->Range(K("k"), "")->kvs.size(), 1u);
  EXPECT_FALSE(Get(K("missing")));
}

TEST_F(EtcdClientTest, RangeOverPrefixWithLimitSetsMore) {
  for (const char* k : {"p/c", "p/a", "p/b"}) ASSERT_TRUE(client_->Put(K(k), k).ok());
  ASSERT_TRUE(client_->Put(K("p0"), "outside").ok());  // == PrefixEnd("p/"): excluded
  ASSERT_TRUE(client_->Put(K("p"), "outside").ok());

  auto all = client_->Range(K("p/"), PrefixEnd(K("p/")));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->kvs.size(), 3u);
  EXPECT_EQ(all->kvs[0].key, K("p/a"));  // in key order
  EXPECT_EQ(all->kvs[1].key, K("p/b"));
  EXPECT_EQ(all->kvs[2].key, K("p/c"));
  EXPECT_EQ(all->kvs[2].value, "p/c");
  EXPECT_FALSE(all->more);

  auto two = client_->Range(K("p/"), PrefixEnd(K("p/")), 2);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  ASSERT_EQ(two->kvs.size(), 2u);
  EXPECT_EQ(two->kvs[0].key, K("p/a"));
  EXPECT_EQ(two->kvs[1].key, K("p/b"));
  EXPECT_TRUE(two->more);

  auto three = client_->Range(K("p/"), PrefixEnd(K("p/")), 3);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->kvs.size(), 3u);
  EXPECT_FALSE(three->more);
}

TEST_F(EtcdClientTest, PrefixEndOfTrailing0xffCoversTheKeysOnTheServer) {
  const std::string p = K("z\xff");
  ASSERT_TRUE(client_->Put(p, "1").ok());
  ASSERT_TRUE(client_->Put(p + "\xff" + "q", "2").ok());
  ASSERT_TRUE(client_->Put(K("z\xfe"), "before").ok());
  ASSERT_TRUE(client_->Put(K("{"), "after").ok());  // PrefixEnd(p) itself: excluded

  auto r = client_->Range(p, PrefixEnd(p));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->kvs.size(), 2u);
  EXPECT_EQ(r->kvs[0].value, "1");
  EXPECT_EQ(r->kvs[1].value, "2");
}

TEST_F(EtcdClientTest, DeleteRangeRemovesThePrefixOnly) {
  ASSERT_TRUE(client_->Put(K("d/1"), "x").ok());
  ASSERT_TRUE(client_->Put(K("d/2"), "x").ok());
  ASSERT_TRUE(client_->Put(K("keep"), "x").ok());
  ASSERT_TRUE(client_->DeleteRange(K("d/"), PrefixEnd(K("d/"))).ok());
  EXPECT_TRUE(client_->Range(K("d/"), PrefixEnd(K("d/")))->kvs.empty());
  EXPECT_TRUE(Get(K("keep")));
}

// ---------------------------------------------------------------------------
// CreateIfAbsent

TEST_F(EtcdClientTest, CreateIfAbsentWritesOnce) {
  auto first = client_->CreateIfAbsent(K("once"), "first", nullptr);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  auto second = client_->CreateIfAbsent(K("once"), "second", nullptr);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(*second);
  auto kv = Get(K("once"));
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->value, "first");
  EXPECT_EQ(kv->mod_revision, kv->create_revision);  // not rewritten
}

TEST_F(EtcdClientTest, CreateIfAbsentWithAMissingGuardWritesNothing) {
  LeaderKey guard{"election", K("leader-gone"), Revision(), 0};
  auto wrote = client_->CreateIfAbsent(K("block"), "v", &guard);
  ASSERT_TRUE(wrote.ok()) << wrote.status().ToString();
  EXPECT_FALSE(*wrote);
  EXPECT_FALSE(Get(K("block")));
}

TEST_F(EtcdClientTest, CreateIfAbsentChecksTheGuardsCreateRevision) {
  ASSERT_TRUE(client_->Put(K("leader"), "me").ok());
  auto leader = Get(K("leader"));
  ASSERT_TRUE(leader);

  LeaderKey stale{"election", K("leader"), leader->create_revision + 1, 0};
  auto wrote = client_->CreateIfAbsent(K("block-1"), "v", &stale);
  ASSERT_TRUE(wrote.ok()) << wrote.status().ToString();
  EXPECT_FALSE(*wrote);
  EXPECT_FALSE(Get(K("block-1")));

  // The guard is on the create revision: rewriting the key keeps it valid.
  ASSERT_TRUE(client_->Put(K("leader"), "me, again").ok());
  LeaderKey held{"election", K("leader"), leader->create_revision, 0};
  wrote = client_->CreateIfAbsent(K("block-1"), "v", &held);
  ASSERT_TRUE(wrote.ok()) << wrote.status().ToString();
  EXPECT_TRUE(*wrote);
  auto kv = Get(K("block-1"));
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->value, "v");

  // Deleted and created again (another term): the old guard no longer holds.
  ASSERT_TRUE(client_->DeleteRange(K("leader"), "").ok());
  ASSERT_TRUE(client_->Put(K("leader"), "someone else").ok());
  wrote = client_->CreateIfAbsent(K("block-2"), "v", &held);
  ASSERT_TRUE(wrote.ok()) << wrote.status().ToString();
  EXPECT_FALSE(*wrote);
  EXPECT_FALSE(Get(K("block-2")));
}

// ---------------------------------------------------------------------------
// Watches

TEST_F(EtcdClientTest, WatchFromARevisionDeliversLaterChangesInOrder) {
  ASSERT_TRUE(client_->Put(K("w/old"), "before").ok());
  const int64_t from = Revision() + 1;
  ASSERT_TRUE(client_->Put(K("w/a"), "1").ok());
  ASSERT_TRUE(client_->Put(K("w/b"), "2").ok());
  ASSERT_TRUE(client_->Put(K("outside"), "not watched").ok());
  ASSERT_TRUE(client_->Put(K("w/a"), "3").ok());
  ASSERT_TRUE(client_->DeleteRange(K("w/b"), "").ok());

  // Opened after the writes: they come from the history.
  auto w = client_->WatchRange(K("w/"), PrefixEnd(K("w/")), from);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto events = Collect(**w, 4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_TRUE(events[0].put);
  EXPECT_EQ(events[0].kv.key, K("w/a"));
  EXPECT_EQ(events[0].kv.value, "1");
  EXPECT_EQ(events[0].kv.mod_revision, from);
  EXPECT_EQ(events[1].kv.key, K("w/b"));
  EXPECT_EQ(events[1].kv.value, "2");
  EXPECT_EQ(events[2].kv.key, K("w/a"));
  EXPECT_EQ(events[2].kv.value, "3");
  EXPECT_EQ(events[2].kv.create_revision, events[0].kv.create_revision);
  EXPECT_FALSE(events[3].put);
  EXPECT_EQ(events[3].kv.key, K("w/b"));
  for (size_t i = 1; i < events.size(); ++i)
    EXPECT_GT(events[i].kv.mod_revision, events[i - 1].kv.mod_revision);

  // And changes made while it is open.
  ASSERT_TRUE(client_->Put(K("w/c"), "live").ok());
  auto more = Collect(**w, 1);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].kv.key, K("w/c"));
  EXPECT_EQ(more[0].kv.value, "live");
}

TEST_F(EtcdClientTest, WatchNextReturnsAnEmptyBatchWhenNothingHappens) {
  auto w = client_->WatchRange(K("quiet/"), PrefixEnd(K("quiet/")), Revision() + 1);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  const auto start = SteadyClock::now();
  auto b = (*w)->Next(300ms);
  const auto waited = SteadyClock::now() - start;
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_TRUE(b->empty());
  EXPECT_GE(waited, 250ms);  // it did wait
  EXPECT_LT(waited, 3s);

  // The stream itself works: a write now arrives.
  ASSERT_TRUE(client_->Put(K("quiet/x"), "1").ok());
  auto events = Collect(**w, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.value, "1");
}

TEST_F(EtcdClientTest, WatchFromACompactedRevisionFails) {
  ASSERT_TRUE(client_->Put(K("c"), "1").ok());
  const int64_t old = Get(K("c"))->mod_revision;
  ASSERT_TRUE(client_->Put(K("c"), "2").ok());
  ASSERT_TRUE(client_->Put(K("c"), "3").ok());
  const int64_t now = Revision();
  ASSERT_TRUE(client_->Compact(now).ok());

  // Compacting again at or below the compacted revision is refused.
  Status again = client_->Compact(old);
  EXPECT_EQ(again.code(), Code::kFailedPrecondition) << again.ToString();

  auto w = client_->WatchRange(K("c"), "", old);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  Result<std::vector<WatchEvent>> b = std::vector<WatchEvent>();
  const auto deadline = SteadyClock::now() + 10s;
  while (b.ok() && b->empty() && SteadyClock::now() < deadline) b = (*w)->Next(200ms);
  ASSERT_FALSE(b.ok()) << "no error from a watch on compacted history; got "
                       << (b.ok() ? b->size() : 0) << " events";
  EXPECT_EQ(b.status().code(), Code::kFailedPrecondition) << b.status().ToString();
  EXPECT_NE(b.status().message().find("compacted"), std::string::npos) << b.status().ToString();

  // The error stays; a watch from after the compaction works.
  EXPECT_FALSE((*w)->Next(10ms).ok());
  auto w2 = client_->WatchRange(K("c"), "", now);
  ASSERT_TRUE(w2.ok());
  auto events = Collect(**w2, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.value, "3");
}

// ---------------------------------------------------------------------------
// Leases

TEST_F(EtcdClientTest, KeepAliveHoldsAKeyPastItsTtlAndRevokeDeletesIt) {
  const int64_t kept = Lease(2);
  const int64_t idle = Lease(2);  // control: nobody keeps it alive
  ASSERT_NE(kept, 0);
  ASSERT_NE(idle, 0);
  ASSERT_TRUE(client_->Put(K("kept"), "alive", kept).ok());
  ASSERT_TRUE(client_->Put(K("idle"), "expires", idle).ok());
  auto keeper = client_->KeepAlive(kept, 2);
  EXPECT_EQ(keeper->lease(), kept);

  // Waiting on the clock is the point here: 1.5 TTLs.
  std::this_thread::sleep_for(3s);
  EXPECT_TRUE(Get(K("kept"))) << "the kept-alive key expired";
  EXPECT_FALSE(keeper->lost());
  // etcd expires the idle lease on its own schedule; it does, soon.
  EXPECT_TRUE(WaitUntil([&] { return !Get(K("idle")); }, 10s)) << "the control lease never expired";
  EXPECT_TRUE(Get(K("kept")));

  ASSERT_TRUE(client_->RevokeLease(kept).ok());
  EXPECT_FALSE(Get(K("kept")));
}

TEST_F(EtcdClientTest, LeaseKeeperReportsARevokedLeaseLostWithinItsTtl) {
  // TTL 6 s: the keeper must notice the revocation itself (it refreshes
  // every 2 s); merely letting its confirmed TTL run out would take 6 s.
  const int64_t lease = Lease(6);
  ASSERT_NE(lease, 0);
  auto keeper = client_->KeepAlive(lease, 6);
  // Revoke after its first refresh (sent at once): a running keeper must
  // notice. LeaseKeeperOnAnAlreadyRevokedLeaseIsLostAtOnce covers the
  // other order.
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(keeper->lost());
  ASSERT_TRUE(client_->RevokeLease(lease).ok());
  // Next refresh ~1.5 s after the revocation; its own TTL would run out at 5.5 s.
  EXPECT_TRUE(WaitUntil([&] { return keeper->lost(); }, 4s)) << "lost() still false";
  EXPECT_TRUE(keeper->lost());  // for good
}

TEST_F(EtcdClientTest, LeaseKeeperOnAnAlreadyRevokedLeaseIsLostAtOnce) {
  const int64_t lease = Lease(30);
  ASSERT_NE(lease, 0);
  ASSERT_TRUE(client_->RevokeLease(lease).ok());
  auto keeper = client_->KeepAlive(lease, 30);
  EXPECT_TRUE(WaitUntil([&] { return keeper->lost(); }, 3s));
  // Putting under a revoked lease fails.
  Status put = client_->Put(K("x"), "v", lease);
  EXPECT_EQ(put.code(), Code::kNotFound) << put.ToString();
}

// ---------------------------------------------------------------------------
// Elections

TEST_F(EtcdClientTest, FirstCampaignerWinsAtOnce) {
  const std::string name = K("election");
  auto none = client_->LeaderValue(name);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());

  const int64_t lease = Lease(10);
  Canceller cancel;
  auto leader = client_->Campaign(name, lease, "node-1", &cancel);
  ASSERT_TRUE(leader.ok()) << leader.status().ToString();
  EXPECT_EQ(leader->name, name);
  EXPECT_EQ(leader->lease, lease);
  EXPECT_EQ(leader->key.rfind(name + "/", 0), 0u) << leader->key;
  auto key = Get(leader->key);
  ASSERT_TRUE(key);
  EXPECT_EQ(leader->rev, key->create_revision);
  EXPECT_EQ(key->value, "node-1");

  auto value = client_->LeaderValue(name);
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(value->value_or("<none>"), "node-1");

  // The leader key works as a CreateIfAbsent guard.
  auto wrote = client_->CreateIfAbsent(K("block"), "b", &*leader);
  ASSERT_TRUE(wrote.ok());
  EXPECT_TRUE(*wrote);

  ASSERT_TRUE(client_->Resign(*leader).ok());
  value = client_->LeaderValue(name);
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_FALSE(value->has_value());
  EXPECT_TRUE(client_->RevokeLease(lease).ok());
}

TEST_F(EtcdClientTest, SecondCampaignerWaitsUntilTheFirstResigns) {
  const std::string name = K("election");
  const int64_t lease1 = Lease(10);
  const int64_t lease2 = Lease(10);
  Canceller cancel1;
  auto first = client_->Campaign(name, lease1, "one", &cancel1);
  ASSERT_TRUE(first.ok()) << first.status().ToString();

  BackgroundCampaign second(client_.get(), name, lease2, "two");
  // Wait for the event (its candidate key exists), then give it a moment
  // to (wrongly) return.
  ASSERT_TRUE(WaitUntil([&] { return Candidates(name) == 2; }, 10s));
  EXPECT_FALSE(WaitUntil([&] { return second.returned(); }, 300ms)) << "won while another leads";
  auto value = client_->LeaderValue(name);
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(value->value_or("<none>"), "one");

  Status resigned = client_->Resign(*first);
  ASSERT_TRUE(resigned.ok()) << resigned.ToString();
  auto won = second.Join();
  ASSERT_TRUE(won.ok()) << won.status().ToString();
  EXPECT_EQ(won->lease, lease2);
  EXPECT_GT(won->rev, first->rev);
  value = client_->LeaderValue(name);
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(value->value_or("<none>"), "two");

  // The old guard no longer holds; the new one does.
  auto wrote = client_->CreateIfAbsent(K("block"), "old leader", &*first);
  ASSERT_TRUE(wrote.ok());
  EXPECT_FALSE(*wrote);
  wrote = client_->CreateIfAbsent(K("block"), "new leader", &*won);
  ASSERT_TRUE(wrote.ok());
  EXPECT_TRUE(*wrote);
  EXPECT_TRUE(client_->RevokeLease(lease1).ok());
  EXPECT_TRUE(client_->RevokeLease(lease2).ok());
}

TEST_F(EtcdClientTest, CancelEndsABlockedCampaignPromptly) {
  const std::string name = K("election");
  const int64_t lease1 = Lease(10);
  const int64_t lease2 = Lease(10);
  Canceller cancel1;
  auto first = client_->Campaign(name, lease1, "one", &cancel1);
  ASSERT_TRUE(first.ok()) << first.status().ToString();

  BackgroundCampaign second(client_.get(), name, lease2, "two");
  ASSERT_TRUE(WaitUntil([&] { return Candidates(name) == 2; }, 10s));
  EXPECT_FALSE(second.returned());

  const auto start = SteadyClock::now();
  second.canceller().Cancel();
  EXPECT_TRUE(second.canceller().cancelled());
  const bool ended = WaitUntil([&] { return second.returned(); }, 2s);
  if (!ended) client_->Resign(*first).IgnoreError();  // let it win rather than hang
  ASSERT_TRUE(ended) << "Campaign ignored Cancel";
  EXPECT_LT(SteadyClock::now() - start, 2s);
  auto lost = second.Join();
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), Code::kUnavailable) << lost.status().ToString();
  // The first still leads; etcd withdraws the cancelled candidate.
  auto value = client_->LeaderValue(name);
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(value->value_or("<none>"), "one");
  EXPECT_TRUE(WaitUntil([&] { return Candidates(name) == 1; }, 5s));

  // A cancelled Canceller refuses at once.
  auto again = client_->Campaign(name, lease2, "two", &second.canceller());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kUnavailable);
  EXPECT_TRUE(client_->RevokeLease(lease1).ok());
  EXPECT_TRUE(client_->RevokeLease(lease2).ok());
}

// ---------------------------------------------------------------------------
// Endpoints

TEST_F(EtcdClientTest, ADeadEndpointFailsOverToTheLiveOne) {
  const std::string dead = "http://127.0.0.1:" + std::to_string(FreePort());
  auto c = Connect({dead, server_->endpoint()});
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(client_->Put(K("seen"), "by the first client").ok());

  auto r = c->Range(K("seen"), "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].value, "by the first client");

  Status put = c->Put(K("written"), "through fail-over");
  ASSERT_TRUE(put.ok()) << put.ToString();
  auto kv = Get(K("written"));
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->value, "through fail-over");

  // Every member dead: an error, not a hang.
  auto none = Connect({dead});
  ASSERT_NE(none, nullptr);
  const auto start = SteadyClock::now();
  auto failed = none->Range(K("seen"), "");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kUnavailable) << failed.status().ToString();
  EXPECT_LT(SteadyClock::now() - start, 10s);
}

TEST(EtcdClientConnect, RefusesEndpointsThatAreNotHttpUrls) {
  for (const char* bad : {"127.0.0.1:2379", "grpc://127.0.0.1:2379", "unix:///tmp/etcd.sock", ""}) {
    Options o;
    o.endpoints = {"http://127.0.0.1:2379", bad};
    auto c = Client::Connect(o);
    ASSERT_FALSE(c.ok()) << "accepted '" << bad << "'";
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument) << c.status().ToString();
  }
  Options none;
  auto c = Client::Connect(none);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
}

TEST(EtcdClientConnect, RefusesHttpsWithoutACa) {
  Options o;
  o.endpoints = {"https://127.0.0.1:2379"};
  auto c = Client::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument) << c.status().ToString();
  EXPECT_NE(c.status().message().find("CA"), std::string::npos) << c.status().ToString();

  o.tls_ca = "/nonexistent/ca.pem";  // a CA that cannot be read
  c = Client::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kIOError) << c.status().ToString();

  o.tls_ca.clear();  // plain http needs no CA
  o.endpoints = {"http://127.0.0.1:2379"};
  EXPECT_TRUE(Client::Connect(o).ok());
}


}  // namespace
}  // namespace cc::etcd
