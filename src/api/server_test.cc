#include "api/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codec/varint.h"
#include "ledger/proof.h"
#include "ordering/solo.h"
#include "testing/signed_client.h"
#include "testing/test_util.h"

namespace cc::api {
namespace {

using testing::Key;
using testing::RegisterTx;

constexpr const char* kHospital = "st-marien-hospital";

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    solo_ = std::make_unique<SoloOrderer>(f_.chain.get(), SoloOptions{/*max_block_txs=*/100,
                                                                      /*block_interval_ms=*/2, 1000});
    ApiOptions o;
    o.port = 0;
    o.threads = 4;
    o.max_body_bytes = 256 * 1024;
    o.max_wait_ms = 20000;
    admission_ = std::make_unique<admission::Admission>(f_.chain.get(), solo_.get(), &metrics_);
    server_ = std::make_unique<Server>(f_.chain.get(), solo_.get(), admission_.get(), &metrics_, o);
    ASSERT_TRUE(solo_->Start().ok());
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_GT(server_->port(), 0);
    // An admin: may submit, read the chain and the metrics.
    client_ = std::make_unique<testing::SignedClient>("127.0.0.1", server_->port(),
                                                      f_.net.keys.hospital_admin);
  }

  void TearDown() override {
    // The orderer first: its commits call the server's and the admission's listeners.
    solo_->Stop();
    server_->Stop();
  }

  // A registration of a new patient by the doctor, with the next nonce.
  TxPtr NewTx() {
    return f_.Tx(f_.net.keys.doctor, "register_actor",
                 {{"key", Key(static_cast<uint8_t>(next_key_++)).public_key().hex()},
                  {"org", kHospital},
                  {"role", "patient"}});
  }

  Result<http::Reply> PostJson(const std::string& path, const std::string& body) {
    return client_->Post(path, body, "application/json");
  }
  Result<http::Reply> PostBinary(const std::string& path, const std::string& body) {
    return client_->Post(path, body, "application/octet-stream");
  }

  static nlohmann::json Body(const Result<http::Reply>& r) {
    return nlohmann::json::parse(r->body, nullptr, false);
  }

  // The reply is `status` with a JSON error body {code, message}.
  static void ExpectError(const Result<http::Reply>& r, int status, const std::string& code,
                          const std::string& message_part = "") {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(r->Header("content-type"), "application/json");
    nlohmann::json j = Body(r);
    ASSERT_TRUE(j.is_object()) << r->body;
    EXPECT_EQ(j.value("code", ""), code) << r->body;
    ASSERT_TRUE(j.contains("message") && j["message"].is_string()) << r->body;
    EXPECT_FALSE(j["message"].get<std::string>().empty());
    if (!message_part.empty()) {
      EXPECT_NE(j["message"].get<std::string>().find(message_part), std::string::npos) << r->body;
    }
  }

  // Waits on commits (not on time) until `id` is in a block.
  bool WaitCommitted(const TxId& id) {
    while (!f_.store->FindTx(id)) {
      uint64_t h = f_.chain->head().height;
      if (f_.chain->WaitForHeight(h + 1, std::chrono::seconds(30)) == h) return false;
    }
    return true;
  }

  testing::ChainFixture f_;
  Metrics metrics_;
  std::unique_ptr<SoloOrderer> solo_;
  std::unique_ptr<admission::Admission> admission_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<testing::SignedClient> client_;
  int next_key_ = 100;
};

// Regression: Stop() right after Start() used to hang when it ran before
// the accept loop had started.
TEST(ServerLifecycle, StopRightAfterStartReturns) {
  testing::ChainFixture f;
  SoloOrderer solo(f.chain.get(), SoloOptions{});
  Metrics metrics;
  admission::Admission admission(f.chain.get(), &solo, &metrics);
  for (int i = 0; i < 50; ++i) {
    ApiOptions o;
    o.port = 0;
    o.threads = 1;
    Server server(f.chain.get(), &solo, &admission, &metrics, o);
    ASSERT_TRUE(server.Start().ok());
    server.Stop();
  }
}

TEST_F(ServerTest, HealthAndInfo) {
  auto r = client_->Get("/healthz");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Body(r)["status"], "ok");
  r = client_->Get("/v1/info");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  nlohmann::json info = Body(r);
  EXPECT_EQ(info["chain_id"], testing::kChainId);
  EXPECT_EQ(info["genesis_hash"], f_.net.genesis.hash.hex());
  EXPECT_EQ(info["node_key"], f_.net.keys.node.public_key().hex());
  EXPECT_EQ(info["height"], 0);
}

TEST_F(ServerTest, SubmitJsonAndWaitForCommit) {
  TxPtr tx = NewTx();
  auto r = PostJson("/v1/transactions?wait=commit", tx->ToJson().dump());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200) << r->body;
  nlohmann::json j = Body(r);
  EXPECT_EQ(j["id"], tx->id().hex());
  EXPECT_EQ(j["status"], "committed");
  EXPECT_EQ(j["result"]["code"], "ok");
  EXPECT_GE(j["height"].get<uint64_t>(), 1u);
  EXPECT_TRUE(f_.store->FindTx(tx->id()).has_value());
}

TEST_F(ServerTest, SubmitBinaryThenQueryTheTransaction) {
  TxPtr tx = NewTx();
  auto r = PostBinary("/v1/transactions", tx->encoded());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->status == 202 || r->status == 200) << r->status << " " << r->body;
  nlohmann::json j = Body(r);
  EXPECT_EQ(j["id"], tx->id().hex());
  EXPECT_TRUE(j["status"] == "pending" || j["status"] == "committed") << j.dump();
  ASSERT_TRUE(WaitCommitted(tx->id()));
  auto g = client_->Get(("/v1/transactions/" + tx->id().hex()).c_str());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->status, 200);
  nlohmann::json got = Body(g);
  EXPECT_EQ(got["status"], "committed");
  EXPECT_EQ(got["tx"]["id"], tx->id().hex());
  EXPECT_EQ(got["tx"]["nonce"], tx->body().nonce);
  EXPECT_EQ(got["result"]["code"], "ok");
  // The JSON form maps back to the same transaction.
  auto back = Transaction::FromJson(got["tx"]);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)->id(), tx->id());
  // Upper-case ids in the path are accepted too.
  std::string upper = tx->id().hex();
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  auto u = client_->Get(("/v1/transactions/" + upper).c_str());
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->status, 200);
}

// Sends one HTTP/1.1 request over a plain socket (the client always
// adds a Content-Type) and returns the whole reply.
std::string RawRequest(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, 0);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string reply;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply;
}

TEST_F(ServerTest, NoContentTypeMeansJson) {
  TxPtr tx = NewTx();
  const std::string body = tx->ToJson().dump();
  const std::string authority = "127.0.0.1:" + std::to_string(server_->port());
  auto sig = SignRequest(f_.net.keys.hospital_admin, "POST", authority, "/v1/transactions", "wait=commit", body,
                         Clock::System()->NowMs() / 1000, NewNonce());
  std::string reply = RawRequest(server_->port(),
                                 "POST /v1/transactions?wait=commit HTTP/1.1\r\nHost: " + authority + "\r\n"
                                 "Content-Digest: " + sig.content_digest + "\r\nSignature-Input: " +
                                 sig.signature_input + "\r\nSignature: " + sig.signature + "\r\n"
                                 "Connection: close\r\nContent-Length: " + std::to_string(body.size()) +
                                 "\r\n\r\n" + body);
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  EXPECT_NE(reply.find("\"committed\""), std::string::npos) << reply;
}

TEST_F(ServerTest, BatchEndpoint) {
  std::vector<TxPtr> txs = {NewTx(), NewTx(), NewTx()};
  std::string body;
  for (const auto& t : txs) {
    codec::AppendVarint(&body, t->encoded().size());
    body += t->encoded();
  }
  // A fourth entry that repeats the first: refused as a duplicate, with its id.
  codec::AppendVarint(&body, txs[0]->encoded().size());
  body += txs[0]->encoded();
  // A fifth that is not a transaction.
  codec::AppendVarint(&body, 3);
  body += "xyz";
  auto r = PostBinary("/v1/transactions/batch", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 202) << r->body;
  nlohmann::json j = Body(r);
  EXPECT_EQ(j["accepted"], 3);
  ASSERT_EQ(j["results"].size(), 5u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(j["results"][i]["id"], txs[i]->id().hex());
    EXPECT_EQ(j["results"][i]["status"], "pending");
  }
  EXPECT_EQ(j["results"][3]["error"]["code"], "already_exists") << j.dump();
  EXPECT_EQ(j["results"][4]["error"]["code"], "invalid_argument") << j.dump();
  for (const auto& t : txs) EXPECT_TRUE(WaitCommitted(t->id()));
}

TEST_F(ServerTest, BatchWithNothingAcceptedIs400) {
  std::string body;
  codec::AppendVarint(&body, 2);
  body += "no";
  auto r = PostBinary("/v1/transactions/batch", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 400);
  nlohmann::json j = Body(r);
  EXPECT_EQ(j["accepted"], 0);
  ASSERT_EQ(j["results"].size(), 1u);
  // Broken framing: a length past the end stops the batch.
  std::string framing;
  codec::AppendVarint(&framing, 1000);
  framing += "short";
  r = PostBinary("/v1/transactions/batch", framing);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Body(r)["results"].size(), 1u);
}

TEST_F(ServerTest, BlocksAsJsonAndBinary) {
  TxPtr tx = NewTx();
  ASSERT_EQ(PostJson("/v1/transactions?wait=commit", tx->ToJson().dump())->status, 200);
  auto loc = f_.store->FindTx(tx->id());
  ASSERT_TRUE(loc.has_value());
  const std::string h = std::to_string(loc->height);
  BlockPtr stored = f_.store->GetBlock(loc->height).value();

  auto r = client_->Get(("/v1/blocks/" + h).c_str());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  nlohmann::json j = Body(r);
  EXPECT_EQ(j["hash"], stored->hash().hex());
  EXPECT_EQ(j["header"]["height"], loc->height);
  EXPECT_EQ(j["tx_ids"][loc->index], tx->id().hex());

  r = client_->Get(("/v1/blocks/" + h + "?txs=full").c_str());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  j = Body(r);
  EXPECT_EQ(j["transactions"][loc->index]["id"], tx->id().hex());
  EXPECT_EQ(j["transactions"][loc->index]["result"]["code"], "ok");

  r = client_->Get(("/v1/blocks/" + h + "?format=binary").c_str());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "application/octet-stream");
  auto decoded = Block::Decode(r->body);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ((*decoded)->hash(), stored->hash());

  r = client_->Get("/v1/blocks/latest");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Body(r)["header"]["height"], f_.chain->head().height);
  r = client_->Get("/v1/blocks/0");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Body(r)["hash"], f_.store->GetBlock(0).value()->hash().hex());

  ExpectError(client_->Get("/v1/blocks/999999"), 404, "not_found");
  // A long poll for a block that does not come returns 404 after the wait.
  ExpectError(client_->Get("/v1/blocks/999999?wait_ms=1"), 404, "not_found");
}

TEST_F(ServerTest, ProofOfACommittedTransactionVerifies) {
  TxPtr tx = NewTx();
  ASSERT_EQ(PostJson("/v1/transactions?wait=commit", tx->ToJson().dump())->status, 200);
  auto r = client_->Get(("/v1/proofs/" + tx->id().hex()).c_str());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  auto v = VerifyProof(Body(r), {f_.net.keys.node.public_key()});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->tx_id, tx->id());
  EXPECT_TRUE(v->result.ok());
  EXPECT_FALSE(VerifyProof(Body(r), {Key(9).public_key()}).ok());
  ExpectError(client_->Get(("/v1/proofs/" + std::string(64, 'a')).c_str()), 404, "not_found");
}

TEST_F(ServerTest, UnknownTransactionAndEndpointAre404Json) {
  ExpectError(client_->Get(("/v1/transactions/" + std::string(64, 'b')).c_str()), 404, "not_found");
  ExpectError(client_->Get("/v1/nope"), 404, "not_found", "/v1/nope");
  ExpectError(client_->Get("/v1/transactions/xyz"), 404, "not_found");  // not a 64-hex id
  ExpectError(client_->Post("/v1/nothing", "{}", "application/json"), 404, "not_found");
  ExpectError(client_->Get("/v1/blocks/-1"), 404, "not_found");
}

TEST_F(ServerTest, BadRequestsAre400Json) {
  ExpectError(PostJson("/v1/transactions", "{not json"), 400, "invalid_argument");
  ExpectError(PostJson("/v1/transactions", "[]"), 400, "invalid_argument");
  nlohmann::json j = NewTx()->ToJson();
  j["actor"] = "zz";
  ExpectError(PostJson("/v1/transactions", j.dump()), 400, "invalid_argument", "actor");
  ExpectError(PostBinary("/v1/transactions", "garbage"), 400, "invalid_argument");
  ExpectError(PostBinary("/v1/transactions", ""), 400, "invalid_argument");
  // A tampered signature.
  TxPtr tx = NewTx();
  TxBody b = tx->body();
  b.payload = nlohmann::json{{"key", Key(250).public_key().hex()}, {"org", kHospital}, {"role", "patient"}}.dump();
  ExpectError(PostBinary("/v1/transactions", Transaction::FromParts(b, tx->signature())->encoded()), 400,
              "invalid_argument", "signature");
  // Another chain, an unknown module, a schema error.
  ExpectError(PostBinary("/v1/transactions",
                         testing::MakeTx(f_.net.keys.doctor, 1, "identity", "rotate_key",
                                         {{"new_key", Key(251).public_key().hex()}}, "other-chain")
                             ->encoded()),
              400, "invalid_argument", "chain");
  ExpectError(PostBinary("/v1/transactions",
                         testing::MakeTx(f_.net.keys.doctor, 1, "nomodule", "x", {})->encoded()),
              400, "invalid_argument", "module");
  ExpectError(PostBinary("/v1/transactions",
                         testing::MakeTx(f_.net.keys.doctor, 1, "identity", "rotate_key", {{"new_key", "x"}})
                             ->encoded()),
              400, "invalid_argument", "new_key");
}

TEST_F(ServerTest, ErrorsAboutBinaryFieldsThatAreNotUtf8AreStill400Json) {
  // A binary transaction may carry any bytes as its chain id or module name;
  // echoing them in the error message must not turn a 400 into a 500.
  TxPtr bad_chain = testing::MakeTx(f_.net.keys.doctor, 1, "identity", "rotate_key",
                                    {{"new_key", Key(252).public_key().hex()}}, "chain-\xff\xfe");
  ExpectError(PostBinary("/v1/transactions", bad_chain->encoded()), 400, "invalid_argument");
  TxPtr bad_module = testing::MakeTx(f_.net.keys.doctor, 1, "mod\xc3", "x", {});
  ExpectError(PostBinary("/v1/transactions", bad_module->encoded()), 400, "invalid_argument");
  std::string batch;
  codec::AppendVarint(&batch, bad_module->encoded().size());
  batch += bad_module->encoded();
  auto r = PostBinary("/v1/transactions/batch", batch);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_TRUE(Body(r).is_object()) << r->body;
}

TEST_F(ServerTest, UnregisteredOrRevokedActorIs403) {
  TxPtr tx = testing::MakeTx(f_.net.keys.outsider, 1, "identity", "revoke_actor",
                             {{"key", f_.net.keys.outsider.public_key().hex()}});
  ExpectError(PostBinary("/v1/transactions", tx->encoded()), 403, "permission_denied");
  // Revoke the patient, then the patient's next transaction is refused at the door.
  TxPtr revoke = f_.Tx(f_.net.keys.hospital_admin, "revoke_actor", {{"key", f_.net.keys.patient.public_key().hex()}});
  ASSERT_EQ(PostBinary("/v1/transactions?wait=commit", revoke->encoded())->status, 200);
  TxPtr after = f_.Tx(f_.net.keys.patient, "revoke_actor", {{"key", f_.net.keys.patient.public_key().hex()}});
  ExpectError(PostBinary("/v1/transactions", after->encoded()), 403, "permission_denied");
}

TEST_F(ServerTest, NonceProblemsAndDuplicatesAre409) {
  // A gap.
  TxPtr gap = RegisterTx(f_.net.keys.hospital_admin, 5, Key(240).public_key(), kHospital, "patient");
  ExpectError(PostBinary("/v1/transactions", gap->encoded()), 409, "failed_precondition", "nonce");
  // A duplicate while pending or once committed.
  TxPtr tx = NewTx();
  auto first = PostBinary("/v1/transactions?wait=commit", tx->encoded());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->status, 200) << first->body;
  auto again = PostBinary("/v1/transactions", tx->encoded());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->status, 409) << again->body;
  nlohmann::json j = Body(again);
  EXPECT_TRUE(j["code"] == "failed_precondition" || j["code"] == "already_exists") << j.dump();
}

TEST_F(ServerTest, TooLargeIs413Json) {
  // A body over the server's limit (256 KiB here).
  ExpectError(PostBinary("/v1/transactions", std::string(300 * 1024, 'x')), 413, "too_large");
  // A transaction over the network's max_tx_bytes (64 KiB) but within the body limit.
  TxPtr big = testing::MakeTx(f_.net.keys.doctor, 1, "identity", "revoke_actor",
                              {{"key", f_.net.keys.doctor.public_key().hex()},
                               {"reason", std::string(70 * 1024, 'r')}});
  ExpectError(PostBinary("/v1/transactions", big->encoded()), 413, "too_large", "limit");
}

TEST_F(ServerTest, UnsupportedMediaTypeIs415Json) {
  TxPtr tx = NewTx();
  ExpectError(client_->Post("/v1/transactions", tx->ToJson().dump(), "text/plain"), 415,
              "unsupported_media_type");
  ExpectError(client_->Post("/v1/transactions", tx->encoded(), "application/x-www-form-urlencoded"), 415,
              "unsupported_media_type");
}

TEST_F(ServerTest, NonceStateAndModuleQueries) {
  const std::string doctor = f_.net.keys.doctor.public_key().hex();
  auto r = client_->Get(("/v1/actors/" + doctor + "/nonce").c_str());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Body(r)["next_nonce"], 1);
  TxPtr tx = NewTx();
  ASSERT_EQ(PostBinary("/v1/transactions?wait=commit", tx->encoded())->status, 200);
  r = client_->Get(("/v1/actors/" + doctor + "/nonce").c_str());
  EXPECT_EQ(Body(r)["next_nonce"], 2);

  r = client_->Get("/v1/modules/identity/orgs");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Body(r).size(), 2u);
  r = client_->Get(("/v1/modules/identity/actors/" + doctor).c_str());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Body(r)["role"], "provider");
  ExpectError(client_->Get(("/v1/modules/identity/actors/" + Key(249).public_key().hex()).c_str()), 404,
              "not_found");
  ExpectError(client_->Get("/v1/modules/nomodule/x"), 404, "not_found");

  r = client_->Get("/v1/state/identity?prefix=org/&limit=1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  nlohmann::json page = Body(r);
  ASSERT_EQ(page["entries"].size(), 1u);
  EXPECT_EQ(page["entries"][0]["key"], "org/apotheke-am-markt");
  ASSERT_TRUE(page.contains("next_after"));
  r = client_->Get(("/v1/state/identity?prefix=org/&after=" + page["next_after"].get<std::string>()).c_str());
  nlohmann::json next = Body(r);
  ASSERT_EQ(next["entries"].size(), 1u);
  EXPECT_EQ(next["entries"][0]["key"], "org/st-marien-hospital");
  // Nonces are raw bytes: shown as hex.
  r = client_->Get("/v1/state/ledger?prefix=nonce/");
  nlohmann::json nonces = Body(r);
  ASSERT_EQ(nonces["entries"].size(), 1u);
  EXPECT_EQ(nonces["entries"][0]["value"]["hex"], "0000000000000001");
  ExpectError(client_->Get("/v1/state/nomodule"), 404, "not_found");
}

TEST_F(ServerTest, MetricsCountRequests) {
  ASSERT_TRUE(client_->Get("/healthz").ok());
  auto r = client_->Get("/metrics");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("carechain_http_requests_total"), std::string::npos);
  EXPECT_NE(r->body.find("carechain_block_height"), std::string::npos);
}


// Issue 3: every request but /healthz is signed, and refusals are JSON.
TEST_F(ServerTest, UnsignedBadlySignedAndReplayedRequestsAre401) {
  testing::SignedClient unsigned_client("127.0.0.1", server_->port(), std::nullopt);
  ExpectError(unsigned_client.Get("/v1/info"), 401, "unauthenticated", "not signed");
  EXPECT_EQ(unsigned_client.Get("/healthz")->status, 200);

  const std::string authority = "127.0.0.1:" + std::to_string(server_->port());
  auto sig = SignRequest(f_.net.keys.hospital_admin, "GET", authority, "/v1/info", "", "",
                         Clock::System()->NowMs() / 1000, "replay-nonce-0123456789");
  http::Headers h = {{"Content-Digest", sig.content_digest},
                        {"Signature-Input", sig.signature_input},
                        {"Signature", sig.signature}};
  EXPECT_EQ(unsigned_client.Raw("GET", "/v1/info", h)->status, 200);
  ExpectError(unsigned_client.Raw("GET", "/v1/info", h), 401, "unauthenticated", "nonce already used");
  // The same headers on another path: the signature does not cover it.
  auto other = SignRequest(f_.net.keys.hospital_admin, "GET", authority, "/v1/info", "", "",
                           Clock::System()->NowMs() / 1000, NewNonce());
  http::Headers h2 = {{"Content-Digest", other.content_digest},
                         {"Signature-Input", other.signature_input},
                         {"Signature", other.signature}};
  ExpectError(unsigned_client.Raw("GET", "/v1/blocks/0", h2), 401, "unauthenticated", "bad request signature");
  auto old = SignRequest(f_.net.keys.hospital_admin, "GET", authority, "/v1/info", "", "",
                         Clock::System()->NowMs() / 1000 - 3600, NewNonce());
  http::Headers h3 = {{"Content-Digest", old.content_digest},
                         {"Signature-Input", old.signature_input},
                         {"Signature", old.signature}};
  ExpectError(unsigned_client.Raw("GET", "/v1/info", h3), 401, "unauthenticated", "expired");
  EXPECT_GE(metrics_.Counter("carechain_http_refused_total", "reason=\"unauthenticated\"").load(), 4u);
}

// Issue 17: a request is bound to the node it was signed for (@authority).
TEST_F(ServerTest, ARequestSignedForAnotherNodeIs401) {
  testing::SignedClient raw("127.0.0.1", server_->port(), std::nullopt);
  const std::string other = "127.0.0.1:" + std::to_string(server_->port() + 1);
  auto h = SignTarget(f_.net.keys.hospital_admin, "GET", other, "/v1/info", "");
  ExpectError(raw.Raw("GET", "/v1/info", http::Headers(h.begin(), h.end())), 401, "unauthenticated",
              "signed for " + other);
  // The loopback names of this node are accepted, in any case.
  for (const std::string host : {"127.0.0.1", "localhost", "LocalHost"}) {
    auto ok = SignTarget(f_.net.keys.hospital_admin, "GET", host + ":" + std::to_string(server_->port()),
                         "/v1/info", "");
    EXPECT_EQ(raw.Raw("GET", "/v1/info", http::Headers(ok.begin(), ok.end()))->status, 200) << host;
  }
}

TEST_F(ServerTest, WrongRoleAndUnknownKeysAre403) {
  testing::SignedClient outsider("127.0.0.1", server_->port(), f_.net.keys.outsider);
  ExpectError(outsider.Get("/v1/info"), 403, "permission_denied", "not a registered");
  testing::SignedClient patient("127.0.0.1", server_->port(), f_.net.keys.patient);
  EXPECT_EQ(patient.Get("/v1/info")->status, 200);
  ExpectError(patient.Get("/v1/blocks/0"), 403, "permission_denied", "read the chain");
  ExpectError(patient.Get("/metrics"), 403, "permission_denied");
  testing::SignedClient pharmacist("127.0.0.1", server_->port(), f_.net.keys.pharmacist);
  ExpectError(pharmacist.Get("/v1/modules/identity/actors/" + f_.net.keys.patient.public_key().hex()),
              403, "permission_denied", "patient");
  // A transaction is readable by its signer, and hidden from other actors.
  TxPtr tx = NewTx();
  ASSERT_EQ(PostBinary("/v1/transactions?wait=commit", tx->encoded())->status, 200);
  testing::SignedClient doctor("127.0.0.1", server_->port(), f_.net.keys.doctor);
  EXPECT_EQ(doctor.Get("/v1/transactions/" + tx->id().hex())->status, 200);
  EXPECT_EQ(doctor.Get("/v1/proofs/" + tx->id().hex())->status, 200);
  ExpectError(patient.Get("/v1/transactions/" + tx->id().hex()), 404, "not_found");
  ExpectError(patient.Get("/v1/proofs/" + tx->id().hex()), 404, "not_found");
}

}  // namespace
}  // namespace cc::api
