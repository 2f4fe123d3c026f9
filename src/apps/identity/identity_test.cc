#include "apps/identity/identity.h"

#include <gtest/gtest.h>

#include "testing/test_util.h"

namespace cc::identity {
namespace {

using testing::Key;
using testing::MemLedger;

constexpr const char* kHospital = "st-marien-hospital";
constexpr const char* kPharmacy = "apotheke-am-markt";

nlohmann::json Reg(const PublicKey& key, const std::string& org, const std::string& role) {
  return {{"key", key.hex()}, {"org", org}, {"role", role}};
}

class IdentityTest : public ::testing::Test {
 protected:
  const testing::Keys& k() const { return l_.net.keys; }
  const IdentityModule& module() const {
    return *static_cast<const IdentityModule*>(l_.net.modules.Find("identity"));
  }
  std::optional<Actor> Lookup(const SecretKey& key) const { return LookupActor(l_.state, key.public_key()); }
  nlohmann::json Record(const SecretKey& key) const {
    auto v = l_.state.Get(ActorKey(key.public_key()));
    return v ? nlohmann::json::parse(*v) : nlohmann::json();
  }

  MemLedger l_;
};

TEST_F(IdentityTest, GenesisCreatesOrgsActorsAndNodes) {
  auto admin = Lookup(k().hospital_admin);
  ASSERT_TRUE(admin.has_value());
  EXPECT_EQ(admin->org, kHospital);
  EXPECT_EQ(admin->role, "admin");
  EXPECT_TRUE(admin->active);
  auto padmin = Lookup(k().pharmacy_admin);
  ASSERT_TRUE(padmin);
  EXPECT_EQ(padmin->org, kPharmacy);
  auto doctor = Lookup(k().doctor);
  ASSERT_TRUE(doctor);
  EXPECT_EQ(doctor->role, "provider");
  EXPECT_EQ(doctor->org, kHospital);
  EXPECT_EQ(Lookup(k().pharmacist)->role, "pharmacist");
  EXPECT_EQ(Lookup(k().patient)->role, "patient");
  EXPECT_FALSE(Lookup(k().outsider).has_value());
  EXPECT_FALSE(Lookup(k().node).has_value());  // a node key is not an actor

  EXPECT_TRUE(module().IsActive(l_.state, k().doctor.public_key()));
  EXPECT_FALSE(module().IsActive(l_.state, k().outsider.public_key()));
  EXPECT_TRUE(module().IsProposer(l_.state, k().node.public_key()));
  EXPECT_FALSE(module().IsProposer(l_.state, k().hospital_admin.public_key()));

  auto org = l_.state.Get("identity/org/st-marien-hospital");
  ASSERT_TRUE(org);
  auto j = nlohmann::json::parse(*org);
  EXPECT_EQ(j["name"], "St. Marien Hospital");
  EXPECT_EQ(j["nodes"][0], k().node.public_key().hex());
  EXPECT_TRUE(l_.state.Get("identity/org/apotheke-am-markt").has_value());
  EXPECT_EQ(Record(k().doctor)["registered_by"], "genesis");
}

TEST_F(IdentityTest, GenesisIsDeterministic) {
  MemLedger other;
  EXPECT_EQ(other.state.entries(), l_.state.entries());
  EXPECT_EQ(other.digest, l_.digest);
}

TEST_F(IdentityTest, AdminRegistersActors) {
  SecretKey nurse = Key(80);
  EXPECT_EQ(l_.RunOne(l_.Tx(k().hospital_admin, "register_actor", Reg(nurse.public_key(), kHospital, "provider"))),
            TxCode::kOk);
  auto a = Lookup(nurse);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->role, "provider");
  EXPECT_EQ(a->org, kHospital);
  EXPECT_TRUE(a->active);
  auto rec = Record(nurse);
  EXPECT_EQ(rec["registered_by"], k().hospital_admin.public_key().hex());
  EXPECT_EQ(rec["registered_at"], l_.height);
  // The new actor can act at once.
  SecretKey patient2 = Key(81);
  EXPECT_EQ(l_.RunOne(l_.Tx(nurse, "register_actor", Reg(patient2.public_key(), kHospital, "patient"))),
            TxCode::kOk);
  EXPECT_TRUE(Lookup(patient2)->active);
}

TEST_F(IdentityTest, NonAdminIsUnauthorized) {
  SecretKey x = Key(82);
  std::string detail;
  // A pharmacist registering anyone, anywhere.
  EXPECT_EQ(l_.RunOne(l_.Tx(k().pharmacist, "register_actor", Reg(x.public_key(), kPharmacy, "pharmacist")), &detail),
            TxCode::kUnauthorized);
  EXPECT_FALSE(detail.empty());
  // A patient registering a patient.
  EXPECT_EQ(l_.RunOne(l_.Tx(k().patient, "register_actor", Reg(x.public_key(), kHospital, "patient"))),
            TxCode::kUnauthorized);
  // The admin of another organisation.
  EXPECT_EQ(l_.RunOne(l_.Tx(k().pharmacy_admin, "register_actor", Reg(x.public_key(), kHospital, "provider"))),
            TxCode::kUnauthorized);
  EXPECT_FALSE(Lookup(x).has_value());
}

TEST_F(IdentityTest, ProviderMayRegisterPatientsOnly) {
  SecretKey p = Key(83), prov = Key(84), admin = Key(85);
  EXPECT_EQ(l_.RunOne(l_.Tx(k().doctor, "register_actor", Reg(p.public_key(), kHospital, "patient"))), TxCode::kOk);
  EXPECT_EQ(Lookup(p)->role, "patient");
  EXPECT_EQ(l_.RunOne(l_.Tx(k().doctor, "register_actor", Reg(prov.public_key(), kHospital, "provider"))),
            TxCode::kUnauthorized);
  EXPECT_EQ(l_.RunOne(l_.Tx(k().doctor, "register_actor", Reg(admin.public_key(), kHospital, "admin"))),
            TxCode::kUnauthorized);
  // Only for its own organisation.
  EXPECT_EQ(l_.RunOne(l_.Tx(k().doctor, "register_actor", Reg(prov.public_key(), kPharmacy, "patient"))),
            TxCode::kUnauthorized);
  EXPECT_FALSE(Lookup(prov).has_value());
  EXPECT_FALSE(Lookup(admin).has_value());
}

TEST_F(IdentityTest, UnknownOrgIsNotFound) {
  EXPECT_EQ(l_.RunOne(l_.Tx(k().hospital_admin, "register_actor", Reg(Key(86).public_key(), "no-such-org", "patient"))),
            TxCode::kNotFound);
}

TEST_F(IdentityTest, DuplicateKeyAlreadyExists) {
  EXPECT_EQ(l_.RunOne(l_.Tx(k().hospital_admin, "register_actor", Reg(k().doctor.public_key(), kHospital, "patient"))),
            TxCode::kAlreadyExists);
  EXPECT_EQ(Lookup(k().doctor)->role, "provider");  // unchanged
  // Also within one block: the second registration of the same key fails.
  SecretKey n = Key(87);
  auto e = l_.Run({l_.Tx(k().hospital_admin, "register_actor", Reg(n.public_key(), kHospital, "provider")),
                   l_.Tx(k().pharmacy_admin, "register_actor", Reg(n.public_key(), kPharmacy, "pharmacist"))});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->results[0].code, TxCode::kOk);
  EXPECT_EQ(e->results[1].code, TxCode::kAlreadyExists);
  EXPECT_EQ(Lookup(n)->org, kHospital);
  // A revoked key is never reused.
  ASSERT_EQ(l_.RunOne(l_.Tx(n, "revoke_actor", {{"key", n.public_key().hex()}})), TxCode::kOk);
  EXPECT_EQ(l_.RunOne(l_.Tx(k().hospital_admin, "register_actor", Reg(n.public_key(), kHospital, "provider"))),
            TxCode::kAlreadyExists);
}

TEST_F(IdentityTest, RevokeByAdmin) {
  ASSERT_EQ(l_.RunOne(l_.Tx(k().hospital_admin, "revoke_actor",
                             {{"key", k().doctor.public_key().hex()}, {"reason", "left the hospital"}})),
            TxCode::kOk);
  EXPECT_FALSE(Lookup(k().doctor)->active);
  auto rec = Record(k().doctor);
  EXPECT_EQ(rec["status"], "revoked");
  EXPECT_EQ(rec["reason"], "left the hospital");
  EXPECT_EQ(rec["revoked_by"], k().hospital_admin.public_key().hex());
  EXPECT_FALSE(module().IsActive(l_.state, k().doctor.public_key()));
  // Twice: already revoked.
  EXPECT_EQ(l_.RunOne(l_.Tx(k().hospital_admin, "revoke_actor", {{"key", k().doctor.public_key().hex()}})),
            TxCode::kFailedPrecondition);
}

TEST_F(IdentityTest, RevokeBySelf) {
  ASSERT_EQ(l_.RunOne(l_.Tx(k().patient, "revoke_actor", {{"key", k().patient.public_key().hex()}})), TxCode::kOk);
  EXPECT_FALSE(Lookup(k().patient)->active);
  EXPECT_EQ(Record(k().patient)["revoked_by"], k().patient.public_key().hex());
}

TEST_F(IdentityTest, RevokeByOthersIsUnauthorized) {
  // Another org's admin, a provider of the same org, an unknown key.
  EXPECT_EQ(l_.RunOne(l_.Tx(k().pharmacy_admin, "revoke_actor", {{"key", k().doctor.public_key().hex()}})),
            TxCode::kUnauthorized);
  EXPECT_EQ(l_.RunOne(l_.Tx(k().doctor, "revoke_actor", {{"key", k().patient.public_key().hex()}})),
            TxCode::kUnauthorized);
  EXPECT_TRUE(Lookup(k().doctor)->active);
  EXPECT_TRUE(Lookup(k().patient)->active);
  EXPECT_EQ(l_.RunOne(l_.Tx(k().hospital_admin, "revoke_actor", {{"key", Key(88).public_key().hex()}})),
            TxCode::kNotFound);
}

TEST_F(IdentityTest, RevokedActorIsRefusedButItsNonceIsConsumed) {
  ASSERT_EQ(l_.RunOne(l_.Tx(k().hospital_admin, "revoke_actor", {{"key", k().doctor.public_key().hex()}})),
            TxCode::kOk);
  const uint64_t before = Executor::LastNonce(l_.state, k().doctor.public_key());
  SecretKey p = Key(89);
  auto tx = l_.Tx(k().doctor, "register_actor", Reg(p.public_key(), kHospital, "patient"));
  ASSERT_EQ(tx->body().nonce, before + 1);
  std::string detail;
  EXPECT_EQ(l_.RunOne(tx, &detail), TxCode::kRevokedActor);
  EXPECT_FALSE(Lookup(p).has_value());
  EXPECT_EQ(Executor::LastNonce(l_.state, k().doctor.public_key()), before + 1);
  // Replaying the same transaction is now a nonce error (block invalid).
  size_t bad = 99;
  EXPECT_FALSE(l_.Run({tx}, &bad).ok());
  EXPECT_EQ(bad, 0u);
  // An unregistered key is refused the same way.
  EXPECT_EQ(l_.RunOne(l_.Tx(k().outsider, "revoke_actor", {{"key", k().outsider.public_key().hex()}})),
            TxCode::kRevokedActor);
  EXPECT_EQ(Executor::LastNonce(l_.state, k().outsider.public_key()), 1u);
}

TEST_F(IdentityTest, RevokedAdminCanNoLongerRegister) {
  SecretKey admin2 = Key(90);
  ASSERT_EQ(l_.RunOne(l_.Tx(k().hospital_admin, "register_actor", Reg(admin2.public_key(), kHospital, "admin"))),
            TxCode::kOk);
  ASSERT_EQ(l_.RunOne(l_.Tx(admin2, "revoke_actor", {{"key", k().hospital_admin.public_key().hex()}})),
            TxCode::kOk);
  EXPECT_EQ(l_.RunOne(l_.Tx(k().hospital_admin, "register_actor", Reg(Key(91).public_key(), kHospital, "patient"))),
            TxCode::kRevokedActor);
  EXPECT_EQ(l_.RunOne(l_.Tx(admin2, "register_actor", Reg(Key(91).public_key(), kHospital, "patient"))),
            TxCode::kOk);
}

TEST_F(IdentityTest, RotateKey) {
  SecretKey fresh = Key(92);
  ASSERT_EQ(l_.RunOne(l_.Tx(k().doctor, "rotate_key", {{"new_key", fresh.public_key().hex()}})), TxCode::kOk);
  auto old_rec = Record(k().doctor);
  EXPECT_EQ(old_rec["status"], "revoked");
  EXPECT_EQ(old_rec["rotated_to"], fresh.public_key().hex());
  auto n = Lookup(fresh);
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->active);
  EXPECT_EQ(n->org, kHospital);
  EXPECT_EQ(n->role, "provider");
  EXPECT_EQ(Record(fresh)["rotated_from"], k().doctor.public_key().hex());
  // The old key is refused, the new key acts with its own nonces from 1.
  EXPECT_EQ(l_.RunOne(l_.Tx(k().doctor, "register_actor", Reg(Key(93).public_key(), kHospital, "patient"))),
            TxCode::kRevokedActor);
  auto tx = l_.Tx(fresh, "register_actor", Reg(Key(93).public_key(), kHospital, "patient"));
  EXPECT_EQ(tx->body().nonce, 1u);
  EXPECT_EQ(l_.RunOne(tx), TxCode::kOk);
}

TEST_F(IdentityTest, RotateToARegisteredKeyFails) {
  EXPECT_EQ(l_.RunOne(l_.Tx(k().doctor, "rotate_key", {{"new_key", k().patient.public_key().hex()}})),
            TxCode::kAlreadyExists);
  EXPECT_EQ(l_.RunOne(l_.Tx(k().doctor, "rotate_key", {{"new_key", k().doctor.public_key().hex()}})),
            TxCode::kAlreadyExists);
  EXPECT_TRUE(Lookup(k().doctor)->active);
  EXPECT_EQ(Lookup(k().patient)->role, "patient");
}

TEST_F(IdentityTest, CheckValidatesActionsAndPayloads) {
  const std::string key = Key(94).public_key().hex();
  EXPECT_TRUE(module().Check("register_actor", Reg(Key(94).public_key(), kHospital, "patient")).ok());
  EXPECT_TRUE(module().Check("revoke_actor", {{"key", key}}).ok());
  EXPECT_TRUE(module().Check("revoke_actor", {{"key", key}, {"reason", "r"}}).ok());
  EXPECT_TRUE(module().Check("rotate_key", {{"new_key", key}}).ok());

  auto bad = [&](const char* action, const nlohmann::json& p, const std::string& what) {
    Status s = module().Check(action, p);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << action << " " << p.dump();
    EXPECT_NE(s.message().find(what), std::string::npos) << s.message();
  };
  bad("delete_actor", {{"key", key}}, "unknown action");
  bad("register_actor", {{"key", key}, {"org", kHospital}, {"role", "patient"}, {"x", 1}}, "unknown field 'x'");
  bad("register_actor", {{"key", key}, {"org", kHospital}}, "missing field 'role'");
  bad("register_actor", {{"key", key}, {"org", kHospital}, {"role", "surgeon"}}, "role");
  bad("register_actor", {{"key", key}, {"org", "St Marien"}, {"role", "patient"}}, "org");
  bad("register_actor", {{"key", key.substr(2)}, {"org", kHospital}, {"role", "patient"}}, "key");
  std::string upper = key;
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  bad("rotate_key", {{"new_key", upper}}, "lower-case hex");
  bad("revoke_actor", {{"key", key}, {"reason", ""}}, "reason");
  bad("revoke_actor", {{"key", key}, {"reason", std::string(201, 'r')}}, "reason");
  bad("rotate_key", {{"new_key", 5}}, "new_key");
}

TEST_F(IdentityTest, QueriesListAndFind) {
  QueryParams none;
  auto orgs = module().Query("orgs", none, l_.state);
  ASSERT_TRUE(orgs.ok());
  EXPECT_EQ(orgs->size(), 2u);
  auto org = module().Query("orgs/st-marien-hospital", none, l_.state);
  ASSERT_TRUE(org.ok());
  EXPECT_EQ((*org)["id"], kHospital);
  EXPECT_EQ(module().Query("orgs/nope", none, l_.state).status().code(), Code::kNotFound);

  auto actors = module().Query("actors", none, l_.state);
  ASSERT_TRUE(actors.ok());
  EXPECT_EQ(actors->size(), 5u);  // 2 admins + 3 genesis actors
  auto hospital = module().Query("actors", {{"org", kHospital}}, l_.state);
  EXPECT_EQ(hospital->size(), 3u);
  auto providers = module().Query("actors", {{"org", kHospital}, {"role", "provider"}}, l_.state);
  ASSERT_EQ(providers->size(), 1u);
  EXPECT_EQ((*providers)[0]["key"], k().doctor.public_key().hex());
  auto limited = module().Query("actors", {{"limit", "2"}}, l_.state);
  EXPECT_EQ(limited->size(), 2u);

  auto one = module().Query("actors/" + k().patient.public_key().hex(), none, l_.state);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)["role"], "patient");
  EXPECT_EQ((*one)["key"], k().patient.public_key().hex());
  EXPECT_EQ(module().Query("actors/" + Key(95).public_key().hex(), none, l_.state).status().code(),
            Code::kNotFound);
  EXPECT_EQ(module().Query("actors/xyz", none, l_.state).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(module().Query("nothing", none, l_.state).status().code(), Code::kNotFound);
}

// Genesis documents the module must refuse.
TEST(IdentityGenesis, RejectsMalformedDocuments) {
  testing::Keys keys;
  auto refused = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& what) {
    nlohmann::json doc = testing::GenesisDoc(keys);
    edit(doc);
    testing::Network net(doc);
    MemState empty;
    auto r = net.executor->ExecuteGenesis(empty);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().message();
  };
  refused([](nlohmann::json& d) { d.erase("orgs"); }, "orgs");
  refused([](nlohmann::json& d) { d["orgs"] = nlohmann::json::array(); }, "orgs");
  refused([](nlohmann::json& d) { d["orgs"].push_back(d["orgs"][0]); }, "twice");
  refused([](nlohmann::json& d) { d["orgs"][0]["id"] = "Bad Id"; }, "id");
  refused([](nlohmann::json& d) { d["orgs"][0].erase("id"); }, "id");
  refused([](nlohmann::json& d) { d["orgs"][0]["admins"] = nlohmann::json::array(); }, "admin");
  refused([](nlohmann::json& d) { d["orgs"][0].erase("admins"); }, "admins");
  refused([](nlohmann::json& d) { d["orgs"][0]["admins"] = {"zz"}; }, "64 hex");
  refused([](nlohmann::json& d) { d["orgs"][0]["nodes"] = "abc"; }, "list");
  refused([&](nlohmann::json& d) { d["orgs"][1]["admins"] = {keys.hospital_admin.public_key().hex()}; }, "twice");
  refused([](nlohmann::json& d) { d["actors"][0]["org"] = "nowhere"; }, "unknown org");
  refused([](nlohmann::json& d) { d["actors"][0]["role"] = "king"; }, "role");
  refused([](nlohmann::json& d) { d["actors"] = "x"; }, "list");
  refused([&](nlohmann::json& d) { d["actors"].push_back(d["actors"][0]); }, "twice");
  refused([](nlohmann::json& d) { d["orgs"][0]["name"] = 5; }, "name");
}

TEST(IdentityGenesis, UpperCaseGenesisKeysAreNormalised) {
  testing::Keys keys;
  nlohmann::json doc = testing::GenesisDoc(keys);
  std::string upper = keys.hospital_admin.public_key().hex();
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  doc["orgs"][0]["admins"] = {upper};
  MemLedger l(doc);
  auto a = LookupActor(l.state, keys.hospital_admin.public_key());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->role, "admin");
}

}  // namespace
}  // namespace cc::identity
