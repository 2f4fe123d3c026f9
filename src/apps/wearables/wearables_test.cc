#include "apps/wearables/wearables.h"

#include <gtest/gtest.h>

#include "crypto/merkle.h"
#include "testing/test_util.h"

namespace cc::wearables {
namespace {

using testing::Key;
using testing::MemLedger;

constexpr uint64_t kT0 = 1'790'000'000'000ull;

class WearablesTest : public ::testing::Test {
 protected:
  TxCode Run(const SecretKey& key, const std::string& action, const nlohmann::json& p, std::string* detail = nullptr) {
    return ledger_.RunOne(ledger_.Tx(key, action, p, "wearables"), detail);
  }
  nlohmann::json RegisterPayload(const SecretKey& device) const {
    return {{"device", device.public_key().hex()}, {"kind", "smart_watch"}, {"custodian", "st-marien-hospital"},
            {"model", "Watch 9"}};
  }
  // Batch `seq` of `device` with `n` heart-rate readings a minute apart from `start`, signed by `signer`.
  nlohmann::json Batch(const SecretKey& device, uint64_t seq, uint64_t start, uint64_t n, const SecretKey* signer = nullptr) {
    std::vector<Hash256> leaves;
    for (uint64_t i = 0; i < n; ++i) leaves.push_back(ReadingLeaf(device.public_key(), {start + i * 60000, 0, 70000}));
    const Hash256 root = merkle::Root(leaves);
    const uint64_t last = start + (n - 1) * 60000;
    const std::string msg = BatchMessage(device.public_key().hex(), seq, n, start, last, root);
    const Signature sig = (signer ? *signer : device).Sign(AsBytes(msg));
    return {{"device", device.public_key().hex()}, {"seq", seq}, {"count", n}, {"first", start}, {"last", last},
            {"root", root.hex()}, {"device_sig", sig.hex()}};
  }
  nlohmann::json Device(const SecretKey& device) const {
    auto q = mod_.Query("devices/" + device.public_key().hex(), {}, ledger_.state);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? *q : nlohmann::json{};
  }

  const testing::Keys& k() const { return ledger_.net.keys; }
  MemLedger ledger_;
  WearablesModule mod_;
  SecretKey watch_ = Key(50), ring_ = Key(51);
};

TEST_F(WearablesTest, APatientRegistersADeviceWhoseBatchesTheCustodianAnchors) {
  ASSERT_EQ(Run(k().patient, "register_device", RegisterPayload(watch_)), TxCode::kOk);
  auto d = Device(watch_);
  EXPECT_EQ(d["patient"], k().patient.public_key().hex());
  EXPECT_EQ(d["custodian"], "st-marien-hospital");
  EXPECT_EQ(d["status"], "active");
  ASSERT_EQ(Run(k().node, "anchor", Batch(watch_, 1, kT0, 30)), TxCode::kOk);
  ASSERT_EQ(Run(k().node, "anchor", Batch(watch_, 2, kT0 + 30 * 60000, 30)), TxCode::kOk);
  EXPECT_EQ(Device(watch_)["batches"], 2);
  auto anchors = mod_.Query("devices/" + watch_.public_key().hex() + "/anchors", {}, ledger_.state);
  ASSERT_TRUE(anchors.ok());
  ASSERT_EQ((*anchors)["anchors"].size(), 2u);
  EXPECT_EQ((*anchors)["anchors"][1]["seq"], 2);
  EXPECT_EQ((*anchors)["anchors"][1]["count"], 30);
  auto mine = mod_.Query("patients/" + k().patient.public_key().hex() + "/devices", {}, ledger_.state);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ((*mine)["devices"].size(), 1u);
}

TEST_F(WearablesTest, RefusesForeignAndForgedBatchesAndChangesNothing) {
  ASSERT_EQ(Run(k().patient, "register_device", RegisterPayload(watch_)), TxCode::kOk);
  ASSERT_EQ(Run(k().node, "anchor", Batch(watch_, 1, kT0, 10)), TxCode::kOk);
  const auto before = Device(watch_);
  std::string why;
  EXPECT_EQ(Run(k().doctor, "anchor", Batch(watch_, 2, kT0 + 3600000, 10)), TxCode::kUnauthorized);  // not a node
  EXPECT_EQ(Run(k().node, "anchor", Batch(watch_, 2, kT0 + 3600000, 10, &ring_), &why), TxCode::kInvalidPayload);
  EXPECT_NE(why.find("signature"), std::string::npos);
  auto tampered = Batch(watch_, 2, kT0 + 3600000, 10);
  tampered["count"] = 9;  // the device signed 10
  EXPECT_EQ(Run(k().node, "anchor", tampered), TxCode::kInvalidPayload);
  EXPECT_EQ(Run(k().node, "anchor", Batch(watch_, 3, kT0 + 3600000, 10)), TxCode::kFailedPrecondition);  // skips 2
  EXPECT_EQ(Run(k().node, "anchor", Batch(watch_, 2, kT0 + 60000, 10), &why), TxCode::kInvalidPayload);  // overlaps 1
  EXPECT_NE(why.find("out of order"), std::string::npos);
  EXPECT_EQ(Run(k().node, "anchor", Batch(ring_, 1, kT0, 10)), TxCode::kNotFound);  // never registered
  EXPECT_EQ(Device(watch_), before);
}

TEST_F(WearablesTest, OnlyThePatientRegistersAndRevokesTheirDevices) {
  EXPECT_EQ(Run(k().doctor, "register_device", RegisterPayload(watch_)), TxCode::kUnauthorized);
  auto self = RegisterPayload(watch_);
  self["device"] = k().patient.public_key().hex();
  EXPECT_EQ(Run(k().patient, "register_device", self), TxCode::kInvalidPayload);
  auto actor = RegisterPayload(watch_);
  actor["device"] = k().doctor.public_key().hex();  // someone's actor key
  EXPECT_EQ(Run(k().patient, "register_device", actor), TxCode::kAlreadyExists);
  auto nowhere = RegisterPayload(watch_);
  nowhere["custodian"] = "no-such-org";
  EXPECT_EQ(Run(k().patient, "register_device", nowhere), TxCode::kNotFound);
  ASSERT_EQ(Run(k().patient, "register_device", RegisterPayload(watch_)), TxCode::kOk);
  EXPECT_EQ(Run(k().patient, "register_device", RegisterPayload(watch_)), TxCode::kAlreadyExists);
  EXPECT_EQ(Run(k().doctor, "revoke_device", {{"device", watch_.public_key().hex()}}), TxCode::kUnauthorized);
  ASSERT_EQ(Run(k().patient, "revoke_device", {{"device", watch_.public_key().hex()}}), TxCode::kOk);
  EXPECT_EQ(Device(watch_)["status"], "revoked");
  EXPECT_EQ(Run(k().node, "anchor", Batch(watch_, 1, kT0, 10)), TxCode::kFailedPrecondition);
  EXPECT_EQ(Run(k().patient, "revoke_device", {{"device", watch_.public_key().hex()}}), TxCode::kFailedPrecondition);
}

TEST(WearablesLeaf, BindsDeviceTimeMetricAndValue) {
  const PublicKey a = Key(50).public_key(), b = Key(51).public_key();
  const Reading r{kT0, 0, 72000};
  EXPECT_NE(ReadingLeaf(a, r), ReadingLeaf(b, r));
  EXPECT_NE(ReadingLeaf(a, r), ReadingLeaf(a, {kT0 + 1, 0, 72000}));
  EXPECT_NE(ReadingLeaf(a, r), ReadingLeaf(a, {kT0, 1, 72000}));
  EXPECT_NE(ReadingLeaf(a, r), ReadingLeaf(a, {kT0, 0, 72001}));
  EXPECT_NE(ReadingLeaf(a, {kT0, 0, -1}), ReadingLeaf(a, {kT0, 0, 1}));
}

TEST(WearablesCheck, RefusesMalformedPayloads) {
  WearablesModule m;
  nlohmann::json ok = {{"device", std::string(64, 'a')}, {"kind", "ring"}, {"custodian", "st-marien-hospital"}};
  EXPECT_TRUE(m.Check("register_device", ok).ok());
  auto bad = ok;
  bad["kind"] = "toaster";
  EXPECT_FALSE(m.Check("register_device", bad).ok());
  nlohmann::json anchor = {{"device", std::string(64, 'a')}, {"seq", 1u}, {"count", 3u}, {"first", 10u},
                           {"last", 9u}, {"root", std::string(64, 'b')}, {"device_sig", std::string(128, 'c')}};
  EXPECT_FALSE(m.Check("anchor", anchor).ok());  // ends before it starts
  anchor["last"] = 10u;  // three metrics read at one time
  EXPECT_TRUE(m.Check("anchor", anchor).ok());
  anchor["count"] = 10001u;
  EXPECT_FALSE(m.Check("anchor", anchor).ok());
  EXPECT_FALSE(m.Check("sell_data", ok).ok());
}

}  // namespace
}  // namespace cc::wearables
