#include "offchain/gatekeeper.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <set>
#include <thread>

#include "apps/records/keys.h"
#include "testing/queue_orderer.h"
#include "testing/test_util.h"

namespace cc::offchain {
namespace {

using testing::ChainFixture;

constexpr uint64_t kDay = 24ull * 3600 * 1000;

// Passes everything through, but can hand out a damaged copy of a record.
class TamperingStore : public RecordStore {
 public:
  explicit TamperingStore(RecordStore* s) : s_(s) {}
  Status Put(const StoredRecord& r) override { return s_->Put(r); }
  Result<StoredRecord> Get(std::string_view id) const override {
    auto r = s_->Get(id);
    if (r.ok() && flip_ciphertext) r->ciphertext[30] ^= 1;
    if (r.ok() && other_salt) r->salt[0] ^= 1;
    return r;
  }
  Status Erase(std::string_view id, const OutboxEntry& e) override { return s_->Erase(id, e); }
  Status AddOutbox(const std::vector<OutboxEntry>& e) override { return s_->AddOutbox(e); }
  Result<std::vector<OutboxEntry>> ListOutbox(size_t n) const override { return s_->ListOutbox(n); }
  Status RemoveOutbox(const std::vector<std::string>& ids) override { return s_->RemoveOutbox(ids); }
  Status PutDocument(std::string_view k, std::string_view b) override { return s_->PutDocument(k, b); }
  Status WriteDocuments(const std::vector<DocumentWrite>& w) override { return s_->WriteDocuments(w); }
  Status ReplaceDocument(std::string_view k, std::string_view b) override { return s_->ReplaceDocument(k, b); }
  Result<std::string> GetDocument(std::string_view k) const override { return s_->GetDocument(k); }
  Result<std::vector<std::pair<std::string, std::string>>> ListDocuments(std::string_view p, std::string_view a,
                                                                         size_t n) const override {
    return s_->ListDocuments(p, a, n);
  }
  Result<size_t> DeleteDocuments(std::string_view p) override { return s_->DeleteDocuments(p); }
  std::string_view engine() const override { return "tampering"; }
  bool flip_ciphertext = false, other_salt = false;

 private:
  RecordStore* s_;
};

class GatekeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = OpenSqliteStore(f_.dir.file("records.db"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    sqlite_ = std::move(*s);
    store_ = std::make_unique<TamperingStore>(sqlite_.get());
    Restart();
  }

  // A new gatekeeper on the same store (a node restart).
  void Restart() {
    if (gk_) gk_->Stop();
    gk_ = std::make_unique<Gatekeeper>(store_.get(), f_.store.get(), AeadKey::FromBytes(std::string(32, 'k')).value(),
                                       GatekeeperOptions{.org = "st-marien-hospital", .flush_interval_ms = 1000000}, &clock_);
    gk_->Start(&admission_);
  }

  // Commits what the node submitted (and `extra`) and tells the gatekeeper.
  BlockPtr Commit(const std::vector<TxPtr>& extra = {}) {
    auto txs = orderer_.Take();
    txs.insert(txs.end(), extra.begin(), extra.end());
    BlockPtr b = f_.Propose(txs);
    orderer_.Done(txs, /*committed=*/b != nullptr);
    if (b) gk_->OnCommit(b);
    return b;
  }

  std::string StoreCt() {
    auto p = gk_->Store({k().patient.public_key(), "DiagnosticReport", "imaging", "text/plain", kContent});
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    Commit();
    return p.ok() ? p->record : "";
  }

  size_t Outbox() { return store_->ListOutbox(1000).value().size(); }
  const testing::Keys& k() { return f_.net.keys; }
  Reader As(const SecretKey& key, std::string org = "") { return {key.public_key(), std::move(org)}; }

  const std::string kContent = "CT thorax: no findings. Patient: Erika Mustermann.";
  ChainFixture f_;
  ManualClock clock_{1700000100000ull};
  std::unique_ptr<RecordStore> sqlite_;
  std::unique_ptr<TamperingStore> store_;
  // The node's transactions go through the real admission (CheckTx,
  // nonces, signature, the node key's status) into a mempool the test commits.
  testing::QueueOrderer orderer_{f_.chain.get()};
  Metrics metrics_;
  admission::Admission admission_{f_.chain.get(), &orderer_, &metrics_};
  std::unique_ptr<Gatekeeper> gk_;
};

TEST_F(GatekeeperTest, StoresSealedAndPublishesASaltedHash) {
  const std::string rid = StoreCt();
  auto rec = nlohmann::json::parse(*f_.store->Get(records::RecordKey(rid)));
  EXPECT_EQ(rec["patient"], k().patient.public_key().hex());
  auto row = sqlite_->Get(rid);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->ciphertext.find("Mustermann"), std::string::npos);
  EXPECT_EQ(SaltedHash(row->salt, kContent).hex(), rec["content_hash"]);
  EXPECT_NE(Blake2b256(kContent).hex(), rec["content_hash"]);
  // Not for a stranger's key.
  auto bad = gk_->Store({k().doctor.public_key(), "DiagnosticReport", "imaging", "text/plain", "x"});
  EXPECT_EQ(bad.status().code(), Code::kNotFound);
}

TEST_F(GatekeeperTest, ServesThePatientAndLogsTheReadOnChain) {
  const std::string rid = StoreCt();
  auto served = gk_->Fetch(As(k().patient), rid, "treatment");
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_EQ(served->content, kContent);
  EXPECT_TRUE(served->decision.own);
  EXPECT_EQ(Outbox(), 1u);  // durable before the content left
  auto sent = gk_->Flush();
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, 1u);
  EXPECT_EQ(*gk_->Flush(), 0u);  // in flight: not sent twice
  BlockPtr b = Commit();
  ASSERT_EQ(b->txs().size(), 1u);
  EXPECT_EQ(b->txs()[0]->body().action, "log_access");
  EXPECT_TRUE(b->results()[0].ok()) << b->results()[0].detail;
  EXPECT_EQ(Outbox(), 0u);
  EXPECT_EQ(gk_->in_flight(), 0u);
  int entries = 0;
  f_.store->Scan(records::PatientPrefix(k().patient.public_key().hex(), "access"), "",
                 [&](std::string_view, std::string_view) { return ++entries; });
  EXPECT_EQ(entries, 1);
}

TEST_F(GatekeeperTest, RefusesWithoutConsentAndLogsTheRefusal) {
  const std::string rid = StoreCt();
  auto r = gk_->Fetch(As(k().doctor, "st-marien-hospital"), rid, "treatment");
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
  auto box = store_->ListOutbox(10).value();
  ASSERT_EQ(box.size(), 1u);
  auto e = nlohmann::json::parse(box[0].payload);
  EXPECT_EQ(e["outcome"], "denied");
  EXPECT_FALSE(e["reason"].get<std::string>().empty());
  // With a consent the doctor is served, under that consent.
  TxPtr grant = f_.Tx(k().patient, "grant",
                      {{"grantee", k().doctor.public_key().hex()}, {"categories", {"imaging"}},
                       {"purpose", "treatment"}, {"until", clock_.NowMs() + kDay}},
                      "records");
  Commit({grant});
  auto ok = gk_->Fetch(As(k().doctor, "st-marien-hospital"), rid, "treatment");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->decision.consent, grant->id().hex());
  EXPECT_EQ(gk_->Fetch(As(k().doctor), std::string(32, '0'), "treatment").status().code(), Code::kNotFound);
}

TEST_F(GatekeeperTest, DamagedContentIsNeverServed) {
  const std::string rid = StoreCt();
  store_->flip_ciphertext = true;
  EXPECT_EQ(gk_->Fetch(As(k().patient), rid, "treatment").status().code(), Code::kCorruption);
  store_->flip_ciphertext = false;
  store_->other_salt = true;
  auto r = gk_->Fetch(As(k().patient), rid, "treatment");
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_NE(r.status().message().find("hash"), std::string::npos);
  EXPECT_EQ(Outbox(), 0u);  // nothing was served, nothing logged as served
}

TEST_F(GatekeeperTest, ErasureDestroysTheRecordAndCommitsAReceipt) {
  const std::string rid = StoreCt();
  EXPECT_EQ(gk_->Erase(k().doctor.public_key(), rid).status().code(), Code::kPermissionDenied);
  auto receipt = gk_->Erase(k().patient.public_key(), rid);
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  EXPECT_EQ(sqlite_->Get(rid).status().code(), Code::kNotFound);
  // Between the destruction and the receipt's commit, nobody is served.
  auto before = gk_->Fetch(As(k().patient), rid, "treatment");
  EXPECT_EQ(before.status().code(), Code::kFailedPrecondition);
  BlockPtr b = Commit();
  ASSERT_EQ(b->txs().size(), 1u);
  EXPECT_EQ(b->txs()[0]->id(), *receipt);
  EXPECT_TRUE(b->results()[0].ok()) << b->results()[0].detail;
  auto rec = nlohmann::json::parse(*f_.store->Get(records::RecordKey(rid)));
  EXPECT_EQ(rec["status"], "erased");
  EXPECT_EQ(Outbox(), 0u);
  auto after = gk_->Fetch(As(k().patient), rid, "treatment");
  EXPECT_EQ(after.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(gk_->Erase(k().patient.public_key(), rid).status().code(), Code::kFailedPrecondition);
}

TEST_F(GatekeeperTest, UndeliveredEntriesSurviveARestartAndAreLoggedOnce) {
  const std::string rid = StoreCt();
  ASSERT_TRUE(gk_->Fetch(As(k().patient), rid, "treatment").ok());
  ASSERT_EQ(*gk_->Flush(), 1u);
  std::vector<TxPtr> first = orderer_.Take();  // sent, but the node "crashes" before the commit
  Restart();
  ASSERT_EQ(*gk_->Flush(), 1u);  // the outbox still holds it: sent again
  std::vector<TxPtr> second = orderer_.Take();
  // Both copies reach the chain (the first after all): one entry.
  Commit(first);
  Commit(second);
  EXPECT_EQ(Outbox(), 0u);
  int entries = 0;
  f_.store->Scan(records::PatientPrefix(k().patient.public_key().hex(), "access"), "",
                 [&](std::string_view, std::string_view) { return ++entries; });
  EXPECT_EQ(entries, 1);
}

TEST_F(GatekeeperTest, BatchesStayUnderTheTransactionSizeLimit) {
  const std::string rid = StoreCt();
  for (int i = 0; i < 600; ++i) ASSERT_TRUE(gk_->Fetch(As(k().patient), rid, "treatment").ok());
  ASSERT_EQ(*gk_->Flush(), 600u);
  std::vector<TxPtr> txs = orderer_.Take();
  EXPECT_GT(txs.size(), 2u);  // ~300 bytes an entry: at most ~200 in 64 KiB
  for (const auto& tx : txs) {
    EXPECT_LE(tx->encoded().size(), f_.net.genesis.params.max_tx_bytes);
    EXPECT_TRUE(f_.net.executor->CheckTx(*tx).ok()) << f_.net.executor->CheckTx(*tx).ToString();
  }
  BlockPtr b = Commit(txs);
  for (const auto& r : b->results()) EXPECT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(Outbox(), 0u);
}

// Concurrent reads share outbox transactions (group commit); each read's
// entry is written before its content is returned, none is lost.
TEST_F(GatekeeperTest, ConcurrentReadsEachLeaveOneEntry) {
  const std::string rid = StoreCt();
  std::vector<std::thread> threads;
  std::atomic<int> served{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) served += gk_->Fetch(As(k().patient), rid, "treatment").ok();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(served.load(), 400);
  auto box = store_->ListOutbox(1000).value();
  EXPECT_EQ(box.size(), 400u);
  std::set<std::string> ids;
  for (const auto& e : box) ids.insert(e.id);
  EXPECT_EQ(ids.size(), 400u);
}

TEST_F(GatekeeperTest, ARefusedSubmissionIsRetriedLater) {
  const std::string rid = StoreCt();
  ASSERT_TRUE(gk_->Fetch(As(k().patient), rid, "treatment").ok());
  orderer_.refuse = true;
  EXPECT_EQ(gk_->Flush().status().code(), Code::kUnavailable);
  EXPECT_EQ(Outbox(), 1u);
  orderer_.refuse = false;
  EXPECT_EQ(*gk_->Flush(), 1u);
  // An erasure while the node refuses transactions: destroyed now, receipt later.
  Commit();
  orderer_.refuse = true;
  auto r = gk_->Erase(k().patient.public_key(), rid);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("destroyed"), std::string::npos);
  EXPECT_EQ(sqlite_->Get(rid).status().code(), Code::kNotFound);
  orderer_.refuse = false;
  EXPECT_EQ(*gk_->Flush(), 1u);
  BlockPtr b = Commit();
  ASSERT_EQ(b->txs().size(), 1u);
  EXPECT_EQ(b->txs()[0]->body().action, "erase");
  EXPECT_TRUE(b->results()[0].ok());
}

TEST(MasterKey, CreatedOnceWithOwnerOnlyAccessAndCheckedOnLoad) {
  testing::TempDir dir;
  const std::string path = dir.file("master.key");
  auto a = LoadOrCreateMasterKey(path);
  ASSERT_TRUE(a.ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto b = LoadOrCreateMasterKey(path);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->bytes(), b->bytes());
  ASSERT_TRUE(WriteFileAtomic(path, "not a key\n", 0600, /*overwrite=*/true).ok());
  EXPECT_EQ(LoadOrCreateMasterKey(path).status().code(), Code::kCorruption);
}

}  // namespace
}  // namespace cc::offchain
