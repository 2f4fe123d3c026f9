// The router and route handlers without a socket: requests built in memory,
// dispatched, and their responses (or parked replies) checked.
#include "api/router.h"

#include <gtest/gtest.h>

#include "api/http_signature.h"
#include "api/routes.h"
#include "ordering/solo.h"
#include "testing/test_util.h"

namespace cc::api {
namespace {

http::Request Make(std::string method, std::string target, std::string body = "") {
  http::Request q;
  q.method = std::move(method);
  http::SetTarget(&q, std::move(target));
  q.body = std::move(body);
  q.remote_addr = "127.0.0.1";
  return q;
}

void Sign(http::Request* q, const SecretKey& key) {
  for (auto& [k, v] : SignTarget(key, q->method, "node.test", q->target, q->body)) {
    std::string lower = k;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    q->headers.emplace_back(lower, v);
  }
}

nlohmann::json Json(const http::Response& r) { return nlohmann::json::parse(r.body, nullptr, false); }

TEST(Router, MatchesGroupsAnd404And405) {
  Router router;
  router.Add("GET", "/v1/things/([0-9]+)", [](http::Request& q, http::Response& r) {
    r.SetContent("thing " + q.matches[1], "text/plain");
  });
  auto q = Make("GET", "/v1/things/42?x=1");
  http::Response r;
  router.Dispatch(q, r);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "thing 42");

  auto unknown = Make("GET", "/v1/things/abc");
  http::Response r404;
  router.Dispatch(unknown, r404);
  EXPECT_EQ(r404.status, 404);
  EXPECT_EQ(Json(r404)["code"], "not_found");

  auto wrong = Make("DELETE", "/v1/things/42");
  http::Response r405;
  router.Dispatch(wrong, r405);
  EXPECT_EQ(r405.status, 405);
  EXPECT_EQ(Json(r405)["code"], "method_not_allowed");
  ASSERT_EQ(r405.headers.size(), 1u);
  EXPECT_EQ(r405.headers[0].first, "Allow");
  EXPECT_EQ(r405.headers[0].second, "GET");
}

TEST(Router, FallbackServesOnlyUnroutedGets) {
  Router router;
  router.Add("POST", "/v1/x", [](http::Request&, http::Response& r) { r.SetContent("x", "text/plain"); });
  router.SetFallback([](http::Request& q, http::Response& r) { r.SetContent("file " + q.path, "text/plain"); });
  auto get = Make("GET", "/index.html");
  http::Response r;
  router.Dispatch(get, r);
  EXPECT_EQ(r.body, "file /index.html");
  auto post = Make("POST", "/index.html");
  http::Response r2;
  router.Dispatch(post, r2);
  EXPECT_EQ(r2.status, 404);
}

class RoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    solo_ = std::make_unique<SoloOrderer>(f_.chain.get(), SoloOptions{/*max_block_txs=*/100,
                                                                      /*block_interval_ms=*/2, 1000});
    admission_ = std::make_unique<admission::Admission>(f_.chain.get(), solo_.get(), &metrics_);
    ASSERT_TRUE(solo_->Start().ok());
    ApiOptions o;
    o.max_wait_ms = 5000;
    cx_ = std::make_unique<Context>(f_.chain.get(), solo_.get(), admission_.get(), &metrics_, o, OffchainServices{});
    cx_->authenticator.SetAuthorities({"node.test"});  // what Server::Start does once bound
    Routes routes(&router_, cx_.get());
    AddChainRoutes(routes);
    AddSupplyRoutes(routes);
  }
  void TearDown() override { solo_->Stop(); }

  http::Response Run(http::Request q) {
    http::Response r;
    router_.Dispatch(q, r);
    return r;
  }

  testing::ChainFixture f_;
  Metrics metrics_;
  std::unique_ptr<SoloOrderer> solo_;
  std::unique_ptr<admission::Admission> admission_;
  std::unique_ptr<Context> cx_;
  Router router_;
};

TEST_F(RoutesTest, HealthIsPublicAndInfoNeedsASignature) {
  auto health = Run(Make("GET", "/healthz"));
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(Json(health)["status"], "ok");

  auto unsigned_info = Run(Make("GET", "/v1/info"));
  EXPECT_EQ(unsigned_info.status, 401);
  EXPECT_EQ(Json(unsigned_info)["code"], "unauthenticated");

  auto q = Make("GET", "/v1/info");
  Sign(&q, f_.net.keys.hospital_admin);
  auto info = Run(q);
  EXPECT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(Json(info)["chain_id"], testing::kChainId);
}

TEST_F(RoutesTest, WaitForCommitParksTheReplyUntilTheBlock) {
  TxPtr tx = f_.Tx(f_.net.keys.doctor, "register_actor",
                   {{"key", testing::Key(200).public_key().hex()}, {"org", "st-marien-hospital"}, {"role", "patient"}});
  auto q = Make("POST", "/v1/transactions?wait=commit", tx->encoded());
  q.headers.emplace_back("content-type", "application/octet-stream");
  Sign(&q, f_.net.keys.hospital_admin);
  auto r = Run(q);
  if (r.deferred) {  // parked: the poll answers once the block is in
    ASSERT_TRUE(f_.chain->WaitForHeight(1, std::chrono::seconds(5)) >= 1);
    ASSERT_TRUE(r.deferred->poll(r, /*final=*/false));
  }
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["status"], "committed");
  EXPECT_EQ(Json(r)["result"]["code"], "ok");
}

TEST_F(RoutesTest, PackCheckIsPublicAndRateLimitedWithRetryAfter) {
  int limited = 0;
  for (int i = 0; i < 50; ++i) {
    auto r = Run(Make("GET", "/v1/packs/check?code=%2801%2909506000134352%2821%29S1"));
    if (r.status == 429) {
      ++limited;
      bool retry_after = false;
      for (auto& [k, v] : r.headers) retry_after |= k == "Retry-After" && v == "1";
      EXPECT_TRUE(retry_after);
    } else {
      EXPECT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(Json(r)["verdict"], "unknown_product");
    }
  }
  EXPECT_GT(limited, 0);  // 10 per second per address, burst 20
}

}  // namespace
}  // namespace cc::api
