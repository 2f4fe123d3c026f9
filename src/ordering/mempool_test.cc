#include "ordering/mempool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "ledger/executor.h"
#include "testing/test_util.h"

namespace cc {
namespace {

using testing::Key;
using testing::MakeTx;

TxPtr Tx(uint8_t who, uint64_t nonce, const std::string& salt = "") {
  return MakeTx(Key(who), nonce, "identity", "revoke_actor",
                {{"key", Key(who).public_key().hex()}, {"reason", "r" + salt}});
}

void CommitNonce(MemState* state, uint8_t who, uint64_t nonce) {
  std::string v;
  AppendBigEndian64(&v, nonce);
  state->Apply({{Executor::NonceKey(Key(who).public_key()), v}});
}

TEST(Mempool, AcceptsTheNextNonceOnly) {
  MemState committed;
  Mempool m(&committed, 100);
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 1u);
  ASSERT_TRUE(m.Add(Tx(1, 1)).ok());
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 2u);
  ASSERT_TRUE(m.Add(Tx(1, 2)).ok());
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 3u);
  // Gap.
  Status gap = m.Add(Tx(1, 4));
  EXPECT_EQ(gap.code(), Code::kFailedPrecondition);
  EXPECT_NE(gap.message().find("out of order"), std::string::npos) << gap.message();
  EXPECT_NE(gap.message().find("next nonce is 3"), std::string::npos) << gap.message();
  // Replay of a used nonce (a different transaction with the same nonce).
  Status replay = m.Add(Tx(1, 2, "other"));
  EXPECT_EQ(replay.code(), Code::kFailedPrecondition);
  EXPECT_NE(replay.message().find("already used"), std::string::npos) << replay.message();
  // Other actors are independent.
  EXPECT_TRUE(m.Add(Tx(2, 1)).ok());
  EXPECT_EQ(m.size(), 3u);
}

TEST(Mempool, StartsFromTheCommittedNonce) {
  MemState committed;
  CommitNonce(&committed, 1, 7);
  Mempool m(&committed, 100);
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 8u);
  EXPECT_EQ(m.Add(Tx(1, 7)).code(), Code::kFailedPrecondition);
  EXPECT_EQ(m.Add(Tx(1, 1)).code(), Code::kFailedPrecondition);
  EXPECT_TRUE(m.Add(Tx(1, 8)).ok());
}

TEST(Mempool, DuplicatesAreAlreadyExists) {
  MemState committed;
  Mempool m(&committed, 100);
  TxPtr t = Tx(1, 1);
  ASSERT_TRUE(m.Add(t).ok());
  Status dup = m.Add(t);
  EXPECT_EQ(dup.code(), Code::kAlreadyExists);
  EXPECT_TRUE(m.Contains(t->id()));
  // A decoded copy of the same transaction is the same id.
  Status copy = m.Add(*Transaction::Decode(t->encoded()));
  EXPECT_EQ(copy.code(), Code::kAlreadyExists);
  EXPECT_EQ(m.size(), 1u);
  // Still a duplicate while in flight (taken, not done).
  auto taken = m.Take(10);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_TRUE(m.Contains(t->id()));
  EXPECT_EQ(m.Add(t).code(), Code::kAlreadyExists);
}

TEST(Mempool, CapacityIsUnavailable) {
  MemState committed;
  Mempool m(&committed, 3);
  for (uint64_t n = 1; n <= 3; ++n) ASSERT_TRUE(m.Add(Tx(1, n)).ok());
  Status full = m.Add(Tx(1, 4));
  EXPECT_EQ(full.code(), Code::kUnavailable);
  EXPECT_EQ(m.Add(Tx(2, 1)).code(), Code::kUnavailable);
  // The refused nonce was not counted.
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 4u);
  // Taking frees room (capacity counts queued transactions).
  auto t = m.Take(1);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_TRUE(m.Add(Tx(1, 4)).ok());
}

TEST(Mempool, TakeIsFifoAndBounded) {
  MemState committed;
  Mempool m(&committed, 100);
  std::vector<TxPtr> in;
  for (uint64_t n = 1; n <= 5; ++n) {
    in.push_back(Tx(static_cast<uint8_t>(n % 2 + 1), (n + 1) / 2));
    ASSERT_TRUE(m.Add(in.back()).ok()) << n;
  }
  auto first = m.Take(2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0]->id(), in[0]->id());
  EXPECT_EQ(first[1]->id(), in[1]->id());
  EXPECT_EQ(m.size(), 3u);
  auto rest = m.Take(100);
  ASSERT_EQ(rest.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(rest[i]->id(), in[i + 2]->id());
  EXPECT_TRUE(m.Take(10).empty());
  EXPECT_EQ(m.size(), 0u);
  EXPECT_TRUE(m.Take(0).empty());
}

TEST(Mempool, DoneCommittedForgetsTheActorOnceTheStateHasTheNonce) {
  MemState committed;
  Mempool m(&committed, 100);
  ASSERT_TRUE(m.Add(Tx(1, 1)).ok());
  ASSERT_TRUE(m.Add(Tx(1, 2)).ok());
  auto taken = m.Take(1);
  // The block with nonce 1 commits.
  CommitNonce(&committed, 1, 1);
  m.Done(taken, /*committed=*/true);
  EXPECT_FALSE(m.Contains(taken[0]->id()));
  // Nonce 2 is still queued: the next one is 3.
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 3u);
  auto second = m.Take(1);
  CommitNonce(&committed, 1, 2);
  m.Done(second, true);
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 3u);  // now read from the state
  EXPECT_TRUE(m.Add(Tx(1, 3)).ok());
  // The committed transaction can't come back: its nonce is used.
  EXPECT_EQ(m.Add(taken[0]).code(), Code::kFailedPrecondition);
}

TEST(Mempool, DoneDroppedRewindsTheActorToTheCommittedState) {
  MemState committed;
  Mempool m(&committed, 100);
  TxPtr t1 = Tx(1, 1), t2 = Tx(1, 2), other = Tx(2, 1);
  ASSERT_TRUE(m.Add(t1).ok());
  ASSERT_TRUE(m.Add(t2).ok());
  ASSERT_TRUE(m.Add(other).ok());
  auto taken = m.Take(3);
  ASSERT_EQ(taken.size(), 3u);
  // t1 could not be in a block: t2 will fail its nonce check too.
  m.Done({t1}, /*committed=*/false);
  EXPECT_FALSE(m.Contains(t1->id()));
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 1u);  // from the committed state
  EXPECT_EQ(m.NextNonce(Key(2).public_key()), 2u);  // unaffected
  // The actor may resubmit from nonce 1 (the same transaction, even).
  EXPECT_TRUE(m.Add(t1).ok());
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 2u);
  // Dropping the doomed t2 clears its id and keeps the count of the
  // resubmitted t1 (regression: it used to reset the actor, so NextNonce
  // under-counted and a clashing nonce was accepted).
  m.Done({t2}, /*committed=*/false);
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 2u);
  m.Done({other}, /*committed=*/true);
  EXPECT_FALSE(m.Contains(t2->id()));
  EXPECT_FALSE(m.Contains(other->id()));
  EXPECT_TRUE(m.Contains(t1->id()));
}

TEST(Mempool, CloseRefusesAndWakesWaiters) {
  MemState committed;
  Mempool m(&committed, 100);
  std::thread waiter([&] { EXPECT_EQ(m.WaitAny(), 0u); });
  m.Close();
  waiter.join();
  EXPECT_EQ(m.Add(Tx(1, 1)).code(), Code::kUnavailable);
  // WaitFor returns at once when closed.
  EXPECT_EQ(m.WaitFor(5, std::chrono::steady_clock::now() + std::chrono::hours(1)), 0u);
}

TEST(Mempool, WaitForReturnsWhenEnoughAreQueuedOrAtTheDeadline) {
  MemState committed;
  Mempool m(&committed, 100);
  ASSERT_TRUE(m.Add(Tx(1, 1)).ok());
  EXPECT_EQ(m.WaitFor(1, std::chrono::steady_clock::now() + std::chrono::hours(1)), 1u);
  // Past deadline: returns what is there.
  EXPECT_EQ(m.WaitFor(5, std::chrono::steady_clock::now()), 1u);
  std::thread producer([&] {
    for (uint64_t n = 2; n <= 3; ++n) EXPECT_TRUE(m.Add(Tx(1, n)).ok());
  });
  EXPECT_GE(m.WaitFor(3, std::chrono::steady_clock::now() + std::chrono::seconds(30)), 3u);
  producer.join();
  EXPECT_EQ(m.WaitAny(), 3u);
}

TEST(Mempool, ConcurrentAddsKeepEveryActorsSequence) {
  MemState committed;
  Mempool m(&committed, 10000);
  constexpr int kActors = 4, kPerActor = 50;
  std::vector<std::vector<TxPtr>> txs(kActors);
  for (int a = 0; a < kActors; ++a)
    for (int n = 1; n <= kPerActor; ++n) txs[a].push_back(Tx(static_cast<uint8_t>(10 + a), n));
  std::vector<std::thread> threads;
  for (int a = 0; a < kActors; ++a) {
    threads.emplace_back([&, a] {
      for (const auto& t : txs[a]) EXPECT_TRUE(m.Add(t).ok());
    });
  }
  for (auto& t : threads) t.join();
  auto all = m.Take(100000);
  ASSERT_EQ(all.size(), static_cast<size_t>(kActors * kPerActor));
  std::map<PublicKey, uint64_t> last;
  for (const auto& t : all) {
    EXPECT_EQ(t->body().nonce, last[t->body().actor] + 1);
    last[t->body().actor] = t->body().nonce;
  }
}

std::vector<TxId> Ids(const std::vector<TxPtr>& txs) {
  std::vector<TxId> out;
  for (const auto& t : txs) out.push_back(t->id());
  return out;
}

TEST(Mempool, RequeuePutsTakenTransactionsBackAtTheFrontInOrder) {
  MemState committed;
  Mempool m(&committed, 100);
  TxPtr a1 = Tx(1, 1), a2 = Tx(1, 2), b1 = Tx(2, 1);
  for (const auto& t : {a1, a2, b1}) ASSERT_TRUE(m.Add(t).ok());
  auto taken = m.Take(2);
  ASSERT_EQ(Ids(taken), Ids({a1, a2}));
  // Arrives while the two are out.
  TxPtr a3 = Tx(1, 3);
  ASSERT_TRUE(m.Add(a3).ok());
  m.Requeue(taken);
  EXPECT_EQ(m.size(), 4u);
  EXPECT_EQ(Ids(m.Snapshot()), Ids({a1, a2, b1, a3}));
  // Still in flight: counted for nonces and duplicates.
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 4u);
  EXPECT_EQ(m.Add(a1).code(), Code::kAlreadyExists);
  EXPECT_TRUE(m.Contains(a2->id()));
  // Take hands them out again, first.
  auto again = m.Take(2);
  EXPECT_EQ(Ids(again), Ids({a1, a2}));
  m.Requeue({});
  EXPECT_EQ(Ids(m.Take(10)), Ids({b1, a3}));
  // Done with the requeued ones as committed: the actor's count is right.
  m.Done(again, /*committed=*/true);
  EXPECT_FALSE(m.Contains(a1->id()));
  EXPECT_TRUE(m.Contains(a3->id()));
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 4u);
}

TEST(Mempool, CommittedRemovesBlockTransactionsAndReturnsSupersededOnes) {
  MemState committed;
  Mempool m(&committed, 100);
  TxPtr a1 = Tx(1, 1), a2 = Tx(1, 2), a3 = Tx(1, 3), b1 = Tx(2, 1), c1 = Tx(3, 1);
  for (const auto& t : {a1, a2, a3, b1, c1}) ASSERT_TRUE(m.Add(t).ok());
  // Another node's block: a1 itself, a different transaction of actor 1
  // with nonce 2, a different one of actor 3 with nonce 1, and one of an
  // actor unknown here.
  TxPtr a2_other = Tx(1, 2, "other"), c1_other = Tx(3, 1, "other"), d1 = Tx(4, 1);
  ASSERT_NE(a2_other->id(), a2->id());
  // The chain commits the block before it tells the mempool.
  CommitNonce(&committed, 1, 2);
  CommitNonce(&committed, 3, 1);
  CommitNonce(&committed, 4, 1);
  auto dropped = m.Committed({a1, a2_other, d1, c1_other});
  std::vector<TxId> got = Ids(dropped);
  std::sort(got.begin(), got.end());
  std::vector<TxId> want = Ids({a2, c1});
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  // a3 (nonce 3 is still free) and b1 stay, in their order.
  EXPECT_EQ(Ids(m.Snapshot()), Ids({a3, b1}));
  EXPECT_EQ(m.size(), 2u);
  for (const auto& t : {a1, a2, c1}) EXPECT_FALSE(m.Contains(t->id()));
  EXPECT_TRUE(m.Contains(a3->id()));
  // Next nonces: above a3 for actor 1; from the state for actors 3 and 4;
  // actor 2 untouched.
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 4u);
  EXPECT_EQ(m.NextNonce(Key(2).public_key()), 2u);
  EXPECT_EQ(m.NextNonce(Key(3).public_key()), 2u);
  EXPECT_EQ(m.NextNonce(Key(4).public_key()), 2u);
  // A superseded transaction can't come back; the next nonce is accepted.
  EXPECT_EQ(m.Add(a2).code(), Code::kFailedPrecondition);
  EXPECT_EQ(m.Add(c1).code(), Code::kFailedPrecondition);
  EXPECT_TRUE(m.Add(Tx(3, 2)).ok());
  EXPECT_TRUE(m.Add(Tx(1, 4)).ok());
}

TEST(Mempool, CommittedWithNothingOfOursChangesNothing) {
  MemState committed;
  Mempool m(&committed, 100);
  TxPtr a1 = Tx(1, 1);
  ASSERT_TRUE(m.Add(a1).ok());
  CommitNonce(&committed, 2, 1);
  EXPECT_TRUE(m.Committed({Tx(2, 1)}).empty());
  EXPECT_TRUE(m.Committed({}).empty());
  EXPECT_EQ(Ids(m.Snapshot()), Ids({a1}));
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 2u);
}

TEST(Mempool, CommittedOfAllQueuedTransactionsFallsBackToTheState) {
  MemState committed;
  Mempool m(&committed, 100);
  TxPtr a1 = Tx(1, 1), a2 = Tx(1, 2);
  ASSERT_TRUE(m.Add(a1).ok());
  ASSERT_TRUE(m.Add(a2).ok());
  // The block holds a1 and a2 themselves, and a third one of the actor we
  // never saw.
  TxPtr a3 = Tx(1, 3);
  CommitNonce(&committed, 1, 3);
  EXPECT_TRUE(m.Committed({a1, a2, a3}).empty());
  EXPECT_EQ(m.size(), 0u);
  EXPECT_FALSE(m.Contains(a1->id()));
  EXPECT_FALSE(m.Contains(a2->id()));
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 4u);
  EXPECT_EQ(m.Add(a3).code(), Code::kFailedPrecondition);
  EXPECT_TRUE(m.Add(Tx(1, 4)).ok());
}

TEST(Mempool, DropRemovesQueuedTransactionsAndRewindsTheNonce) {
  MemState committed;
  CommitNonce(&committed, 1, 4);
  Mempool m(&committed, 100);
  TxPtr a5 = Tx(1, 5), a6 = Tx(1, 6), a7 = Tx(1, 7), b1 = Tx(2, 1);
  for (const auto& t : {a5, a6, a7, b1}) ASSERT_TRUE(m.Add(t).ok());
  ASSERT_EQ(m.NextNonce(Key(1).public_key()), 8u);
  // The last one: the next nonce is its own again.
  m.Drop({a7});
  EXPECT_EQ(Ids(m.Snapshot()), Ids({a5, a6, b1}));
  EXPECT_FALSE(m.Contains(a7->id()));
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 7u);
  // One in the middle: the next nonce falls back to it.
  m.Drop({a6});
  EXPECT_EQ(Ids(m.Snapshot()), Ids({a5, b1}));
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 6u);
  EXPECT_EQ(m.NextNonce(Key(2).public_key()), 2u);
  // Dropping again, or something never queued, changes nothing.
  m.Drop({a6, Tx(3, 1)});
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 6u);
  // The dropped nonce may be used again.
  EXPECT_TRUE(m.Add(Tx(1, 6, "again")).ok());
  // All of the actor's: back to the committed state.
  m.Drop(m.Snapshot());
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.NextNonce(Key(1).public_key()), 5u);
  EXPECT_EQ(m.NextNonce(Key(2).public_key()), 1u);
  EXPECT_TRUE(m.Add(a5).ok());
}

TEST(Mempool, SnapshotIsOldestFirstAndRemovesNothing) {
  MemState committed;
  Mempool m(&committed, 100);
  EXPECT_TRUE(m.Snapshot().empty());
  TxPtr b1 = Tx(2, 1), a1 = Tx(1, 1), b2 = Tx(2, 2);
  for (const auto& t : {b1, a1, b2}) ASSERT_TRUE(m.Add(t).ok());
  EXPECT_EQ(Ids(m.Snapshot()), Ids({b1, a1, b2}));
  EXPECT_EQ(Ids(m.Snapshot()), Ids({b1, a1, b2}));
  EXPECT_EQ(m.size(), 3u);
  EXPECT_TRUE(m.Contains(a1->id()));
  EXPECT_EQ(Ids(m.Take(1)), Ids({b1}));
  EXPECT_EQ(Ids(m.Snapshot()), Ids({a1, b2}));  // taken ones are not queued
  EXPECT_EQ(Ids(m.Take(10)), Ids({a1, b2}));
}

}  // namespace
}  // namespace cc
