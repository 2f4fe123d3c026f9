#include "cli/reviews_commands.h"

#include <memory>

#include "apps/reviews/reviews.h"
#include "apps/token/token.h"
#include "cli/common.h"
#include "util/date.h"
#include "util/env.h"

namespace cc::cli {
namespace {

struct Opts {
  std::string patient, date, visit, review, text, provider, after, memo;
  std::vector<std::string> aspects;  // name=rating
  uint64_t overall = 0, amount = 0;
  bool wait = false, list = false, texts = false, yes = false;
};

// The ratings and text of a review or correction: the text goes to the
// review platform first, and the payload names what it answered.
Result<nlohmann::json> RatingsPayload(const Conn& conn, const Opts& o, nlohmann::json p) {
  if (o.overall) p["overall"] = o.overall;
  for (const std::string& a : o.aspects) {
    const size_t eq = a.find('=');
    const std::string rating = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (eq == std::string::npos || rating.size() != 1 || rating[0] < '1' || rating[0] > '5')
      return Status::Invalid("--aspect is name=rating, the rating 1 to 5 (e.g. waiting_time=2)");
    p["aspects"].push_back({{"aspect", a.substr(0, eq)}, {"rating", static_cast<uint64_t>(rating[0] - '0')}});
  }
  if (!o.text.empty()) {
    CC_ASSIGN_OR_RETURN(std::string text, ReadPayload(o.text));
    CC_ASSIGN_OR_RETURN(Client c, Connect(conn));
    CC_ASSIGN_OR_RETURN(nlohmann::json sealed,
                        c.Post("/v1/reviews/texts", nlohmann::json{{"text", text}}.dump(), "application/json"));
    p["text_ref"] = sealed["ref"];
    p["text_hash"] = sealed["hash"];
  }
  return p;
}

}  // namespace

void AddReviewsCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key, int* rc) {
  auto* reviews = app->add_subcommand("reviews", "Verified reviews: visits, reviews, corrections, rewards, ratings");
  reviews->require_subcommand(1);
  auto o = std::make_shared<Opts>();
  auto conn = [=] { return Conn{*node, *key, *ca_file}; };
  auto add_conn = [=](CLI::App* c) { AddConnOptions(c, node, ca_file, key); };
  auto add_wait = [=](CLI::App* c) { c->add_flag("--wait", o->wait, "Wait until the transaction is committed"); };
  auto add_ratings = [=](CLI::App* c, bool overall_required) {
    auto* overall = c->add_option("--overall", o->overall, "Overall rating, 1 to 5")->check(CLI::Range(1, 5));
    if (overall_required) overall->required();
    c->add_option("--aspect", o->aspects, "An aspect's rating, name=1..5 (repeatable; see `reviews info`)");
    c->add_option("--text", o->text, "The text: kept encrypted by the review platform, its hash on chain "
                                     "(@file reads a file, - standard input)");
  };

  auto* info = reviews->add_subcommand("info", "The network's review parameters: platform, reward, aspects");
  add_conn(info);
  info->callback([=] { *rc = GetAndPrint(conn(), "/v1/modules/reviews/meta"); });

  auto* attest = reviews->add_subcommand("attest", "As a provider: attest a patient's visit (their right to review it)");
  add_conn(attest);
  attest->add_option("--patient", o->patient, "The patient's key (64 hex digits)")->required();
  attest->add_option("--date", o->date, "The visit's date, YYYY-MM-DD (default: today, UTC)");
  add_wait(attest);
  attest->callback([=] {
    const std::string date = o->date.empty() ? FormatDay(Clock::System()->NowMs() / kDayMs) : o->date;
    auto reply = SubmitAction(conn(), reviews::kModule, "attest", {{"patient", o->patient}, {"date", date}}, o->wait);
    // The visit's id is its transaction's, shortened: give it to the patient.
    if (reply.ok() && reply->contains("id")) (*reply)["visit"] = (*reply)["id"].get<std::string>().substr(0, 32);
    *rc = PrintReply(reply);
  });

  auto* visits = reviews->add_subcommand("visits", "A patient's attested visits and their reviews (default: yours)");
  add_conn(visits);
  visits->add_option("--patient", o->patient, "The patient's key (default: yours)");
  visits->callback([=] {
    auto me = o->patient.empty() ? OwnKeyHex(conn()) : Result<std::string>(o->patient);
    *rc = me.ok() ? GetAndPrint(conn(), "/v1/modules/reviews/patients/" + *me + "/visits") : Fail(me.status());
  });

  auto* write = reviews->add_subcommand("write", "As the patient: review an attested visit (once)");
  add_conn(write);
  write->add_option("--visit", o->visit, "The visit's id (from the attestation)")->required();
  add_ratings(write, /*overall_required=*/true);
  add_wait(write);
  write->callback([=] {
    auto p = RatingsPayload(conn(), *o, {{"visit", o->visit}});
    *rc = p.ok() ? PrintReply(SubmitAction(conn(), reviews::kModule, "review", *p, o->wait)) : Fail(p.status());
  });

  auto* correct = reviews->add_subcommand("correct", "As its patient: append a correction to a review");
  add_conn(correct);
  correct->add_option("--review", o->review, "The review's id")->required();
  add_ratings(correct, /*overall_required=*/false);
  add_wait(correct);
  correct->callback([=] {
    auto p = RatingsPayload(conn(), *o, {{"review", o->review}});
    *rc = p.ok() ? PrintReply(SubmitAction(conn(), reviews::kModule, "correct", *p, o->wait)) : Fail(p.status());
  });

  auto* show = reviews->add_subcommand("show", "A review: ratings, verified visit, corrections, rewards");
  add_conn(show);
  show->add_option("review", o->review, "The review's id")->required();
  show->add_flag("--texts", o->texts, "Also fetch its texts from the review platform (checked against the chain)");
  show->callback([=] {
    auto c = Connect(conn());
    if (!c.ok()) return void(*rc = Fail(c.status()));
    auto review = c->Get("/v1/modules/reviews/reviews/" + o->review);
    if (!review.ok()) return void(*rc = Fail(review.status()));
    if (o->texts) {
      auto texts = c->Get("/v1/reviews/" + o->review + "/texts");
      if (!texts.ok()) return void(*rc = Fail(texts.status()));
      (*review)["texts"] = *texts;
    }
    *rc = Print(*review);
  });

  auto* provider = reviews->add_subcommand("provider", "A provider's ratings: count, mean and distribution");
  add_conn(provider);
  provider->add_option("org", o->provider, "The provider organisation's id")->required();
  provider->add_flag("--list", o->list, "With its reviews, oldest first (a page)");
  provider->add_option("--after", o->after, "Continue after this review (the previous page's next_after)");
  provider->callback([=] {
    std::string path = "/v1/modules/reviews/providers/" + o->provider;
    if (o->list) path += "/reviews" + (o->after.empty() ? "" : "?after=" + o->after);
    *rc = GetAndPrint(conn(), path);
  });

  auto* providers = reviews->add_subcommand("providers", "Every reviewed provider's ratings");
  add_conn(providers);
  providers->callback([=] { *rc = GetAndPrint(conn(), "/v1/modules/reviews/providers"); });

  auto* reward = reviews->add_subcommand("reward", "As an admin of the reviewed provider: reward a review's author");
  add_conn(reward);
  reward->add_option("--review", o->review, "The review's id")->required();
  reward->add_option("--amount", o->amount, "Whole tokens from your organisation's account")
      ->required()
      ->check(CLI::Range(uint64_t{1}, token::kMaxSupply));
  reward->add_option("--memo", o->memo, "A note kept with the transfer (on chain: no personal data)");
  add_wait(reward);
  reward->callback([=] {
    nlohmann::json p = {{"review", o->review}, {"amount", o->amount}};
    if (!o->memo.empty()) p["memo"] = o->memo;
    *rc = PrintReply(SubmitAction(conn(), reviews::kModule, "reward", p, o->wait));
  });

  auto* erase = reviews->add_subcommand("erase", "Have the texts of your reviews destroyed (ratings stay; cannot be undone)");
  add_conn(erase);
  erase->add_flag("--yes", o->yes, "Yes: destroy my review texts at the review platform")->required();
  add_wait(erase);
  erase->callback([=] {
    auto c = Connect(conn());
    if (!c.ok()) return void(*rc = Fail(c.status()));
    auto r = c->Post(std::string("/v1/reviews/erasure") + (o->wait ? "?wait=commit" : ""), "", "");
    *rc = r.ok() ? Print(*r) : Fail(r.status());
  });
}

}  // namespace cc::cli
