#include "cli/research_commands.h"

#include <cstdio>
#include <memory>

#include "apps/research/research.h"
#include "cli/common.h"
#include "cli/records_commands.h"
#include "crypto/keys.h"
#include "util/env.h"

namespace cc::cli {
namespace {

using research::Outcome;
using research::OutcomesOf;

struct Opts {
  std::string study, title, protocol, results, opening, reason, org, after, hash, proof, genesis;
  std::vector<std::string> primary, secondary, proposers, categories;
  std::string until, metric, from, to;
  uint64_t k = research::kDefaultK, seq = 0, limit = 100;
  double bin = 0;
  bool wait = false, all = false, limit_given = false;
};

bool IsStudyId(const std::string& s) {
  return !s.empty() && s.size() <= 64 &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") == std::string::npos;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// "title", "title | measure" or "title | measure | time frame".
Result<Outcome> ParseOutcome(const std::string& text) {
  std::vector<std::string> parts;
  for (size_t at = 0;;) {
    const size_t bar = text.find('|', at);
    parts.push_back(Trim(text.substr(at, bar == std::string::npos ? std::string::npos : bar - at)));
    if (bar == std::string::npos) break;
    at = bar + 1;
  }
  if (parts.size() > 3 || parts[0].empty())
    return Status::Invalid(
        "'" + text +
        "' is not an outcome: write \"title | measure | time frame\" (the last two optional)");
  parts.resize(3);
  return Outcome{parts[0], parts[1], parts[2]};
}

Result<nlohmann::json> OutcomeList(const std::vector<std::string>& texts) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : texts) {
    CC_ASSIGN_OR_RETURN(Outcome o, ParseOutcome(t));
    out.push_back(research::OutcomeJson(o));
  }
  return out;
}

// The lower-case hex SHA-256 of a file's bytes (what `sha256sum` prints).
Result<std::string> FileHash(const std::string& path) {
  CC_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  return research::Sha256Hex(data);
}

// The payload's outcome lists from --primary and --secondary.
Status AddOutcomes(const Opts& o, nlohmann::json* p) {
  CC_ASSIGN_OR_RETURN((*p)["primary"], OutcomeList(o.primary));
  if (!o.secondary.empty()) {
    CC_ASSIGN_OR_RETURN((*p)["secondary"], OutcomeList(o.secondary));
  }
  return Status::Ok();
}

Result<nlohmann::json> Submit(const Conn& c, const std::string& action,
                              const nlohmann::json& payload, bool wait) {
  return SubmitAction(c, research::kModule, action, payload, wait);
}

// Prints the node's reply with `extra` fields; 1 if the transaction
// committed but was rejected.
int Reply(Result<nlohmann::json> r, const nlohmann::json& extra = nlohmann::json::object()) {
  if (!r.ok()) return Fail(r.status());
  r->update(extra);
  Print(*r);
  return r->contains("result") && (*r)["result"]["code"] != "ok" ? 1 : 0;
}

// The commitment a saved opening makes, checked against the one it states.
Result<std::string> CommitmentOf(const nlohmann::json& opening) {
  try {
    const std::string c = research::ResultsCommitment(
        opening.at("study").get<std::string>(), opening.at("salt").get<std::string>(),
        opening.at("results_hash").get<std::string>(), OutcomesOf(opening.at("primary")),
        OutcomesOf(opening.value("secondary", nlohmann::json::array())));
    if (c != opening.at("commitment"))
      return Status::Invalid("the opening's outcomes, salt or hash do not give its commitment");
    return c;
  } catch (const nlohmann::json::exception& e) {
    return Status::Invalid(std::string("malformed opening: ") + e.what());
  }
}

Result<nlohmann::json> ReadJsonFile(const std::string& path) {
  CC_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Status::Invalid(path + " is not a JSON object");
  return j;
}

// What a saved proof of a research transaction proves, offline: the
// transaction is in a block (signed by a trusted node if `o` names one),
// committed without rejection, and carries the protocol hash of
// `o.protocol` and/or the commitment of the opening `o.opening` (whose
// results hash is that of `o.results`).
Result<nlohmann::json> VerifyOffline(const Opts& o) {
  crypto::Init();
  CC_ASSIGN_OR_RETURN(nlohmann::json proof, ReadJsonFile(o.proof));
  CC_ASSIGN_OR_RETURN(VerifiedProof v, CheckProof(proof, o.genesis, o.proposers));
  CC_ASSIGN_OR_RETURN(TxPtr tx,
                      Transaction::Decode(AsChars(*FromHex(proof["tx"].get<std::string>()))));
  const TxBody& b = tx->body();
  if (b.module != research::kModule)
    return Status::Invalid("the proof is of a " + b.module + " transaction, not a research one");
  if (!v.result.ok())
    return Status::Invalid("the transaction was rejected (" +
                           std::string(TxCodeName(v.result.code)) + ": " + v.result.detail +
                           "): it recorded nothing");
  const auto payload = nlohmann::json::parse(b.payload);
  nlohmann::json out = {{"verified", true},
                        {"tx_id", v.tx_id.hex()},
                        {"study", payload["study"]},
                        {"action", b.action},
                        {"actor", b.actor.hex()},
                        {"height", v.header.height},
                        {"block_time_ms", v.header.time_ms},
                        {"block_hash", v.block_hash.hex()},
                        {"proposer", v.header.proposer.hex()},
                        {"proposer_trusted", !o.genesis.empty() || !o.proposers.empty()}};
  if (!o.protocol.empty()) {
    CC_ASSIGN_OR_RETURN(std::string hash, FileHash(o.protocol));
    if (!payload.contains("protocol_hash"))
      return Status::Invalid("the transaction (" + b.action + ") carries no protocol hash");
    if (payload["protocol_hash"] != hash)
      return Status::Invalid(o.protocol + " has SHA-256 " + hash + ", the transaction registered " +
                             payload["protocol_hash"].get<std::string>());
    out["protocol_hash"] = hash;
  }
  if (!o.opening.empty()) {
    CC_ASSIGN_OR_RETURN(nlohmann::json opening, ReadJsonFile(o.opening));
    CC_ASSIGN_OR_RETURN(std::string commitment, CommitmentOf(opening));
    if (b.action != "commit_results")
      return Status::Invalid("the transaction (" + b.action + ") commits no results");
    if (payload["study"] != opening["study"] || payload["commitment"] != commitment)
      return Status::Invalid("the transaction commits to other results than " + o.opening +
                             " opens");
    if (!o.results.empty()) {
      CC_ASSIGN_OR_RETURN(std::string hash, FileHash(o.results));
      if (hash != opening["results_hash"])
        return Status::Invalid(o.results + " has SHA-256 " + hash + ", the opening commits to " +
                               opening["results_hash"].get<std::string>());
      out["results_hash"] = hash;
    }
    out["commitment"] = commitment;
  }
  return out;
}

// An export, page by page (--all: every page, a participant's readings joined).
int Export(const Conn& conn, const Opts& o) {
  auto client = Connect(conn);
  if (!client.ok()) return Fail(client.status());
  std::string base = "/v1/research/studies/" + o.study + "/export?metric=" + o.metric;
  if (o.limit_given) base += "&limit=" + std::to_string(o.limit);
  if (!o.from.empty()) base += "&from=" + o.from;
  if (!o.to.empty()) base += "&to=" + o.to;
  std::string after = o.after;
  nlohmann::json out;
  for (;;) {
    auto page = client->Get(base + (after.empty() ? "" : "&after=" + after));
    if (!page.ok()) return Fail(page.status());
    if (!o.all) return Print(*page);
    if (out.is_null()) {
      out = *page;
      out["participants"] = nlohmann::json::array();
    }
    for (auto& p : (*page)["participants"]) {
      auto& list = out["participants"];
      if (!list.empty() && list.back()["pseudonym"] == p["pseudonym"]) {
        for (auto& r : p["readings"]) list.back()["readings"].push_back(std::move(r));
      } else {
        list.push_back(std::move(p));
      }
    }
    after = page->value("next_after", "");
    if (after.empty()) break;
  }
  out.erase("next_after");
  return Print(out);
}

}  // namespace

void AddResearchCommands(CLI::App* app, std::string* node, std::string* ca_file, std::string* key,
                         int* rc) {
  auto* research =
      app->add_subcommand("research",
                          "The study registry (protocols, outcomes, results, priority) and research data with consent");
  research->require_subcommand(1);
  auto o = std::make_shared<Opts>();
  auto conn = [=] { return Conn{*node, *key, *ca_file}; };
  auto add_conn = [=](CLI::App* c) { AddConnOptions(c, node, ca_file, key); };
  auto study_arg = [=](CLI::App* c) {
    c->add_option("study", o->study, "The study id (1 to 64 of a-z 0-9 . _ -)")
        ->required()
        ->check([](const std::string& s) {
          return IsStudyId(s) ? "" : "a study id is 1 to 64 of a-z 0-9 . _ -";
        });
  };
  auto outcome_opts = [=](CLI::App* c, const char* what) {
    c->add_option("--primary", o->primary,
                  std::string("A primary outcome ") + what +
                      ": \"title | measure | time frame\" (repeatable)")
        ->required();
    c->add_option("--secondary", o->secondary,
                  std::string("A secondary outcome ") + what + ", same form (repeatable)");
  };

  auto* reg = research->add_subcommand(
      "register", "Register a study: its protocol's SHA-256 and its planned outcomes");
  add_conn(reg);
  study_arg(reg);
  reg->add_option("--title", o->title, "The study's title")->required();
  reg->add_option("--protocol", o->protocol, "The protocol document (hashed here; it is not sent)")
      ->required();
  outcome_opts(reg, "as planned");
  reg->add_option(
      "--min-cohort", o->k,
      "k: the smallest cohort an aggregate query of the study is answered over (default 10)");
  reg->add_flag("--wait", o->wait, "Wait until the transaction is committed");
  reg->callback([=] {
    auto hash = FileHash(o->protocol);
    if (!hash.ok()) return void(*rc = Fail(hash.status()));
    nlohmann::json p = {
        {"study", o->study}, {"title", o->title}, {"protocol_hash", *hash}, {"k", o->k}};
    if (Status s = AddOutcomes(*o, &p); !s.ok()) return void(*rc = Fail(s));
    *rc = Reply(Submit(conn(), "register", p, o->wait),
                {{"study", o->study}, {"protocol_hash", *hash}});
  });

  auto* amend = research->add_subcommand(
      "amend", "Amend a study: restate its outcomes in full, optionally a new protocol");
  add_conn(amend);
  study_arg(amend);
  amend->add_option("--reason", o->reason, "Why (kept on chain)")->required();
  amend->add_option("--protocol", o->protocol,
                    "The amended protocol document (default: unchanged)");
  outcome_opts(amend, "from now on");
  amend->add_flag("--wait", o->wait, "Wait until the transaction is committed");
  amend->callback([=] {
    nlohmann::json p = {{"study", o->study}, {"reason", o->reason}};
    if (!o->protocol.empty()) {
      auto hash = FileHash(o->protocol);
      if (!hash.ok()) return void(*rc = Fail(hash.status()));
      p["protocol_hash"] = *hash;
    }
    if (Status s = AddOutcomes(*o, &p); !s.ok()) return void(*rc = Fail(s));
    *rc = Reply(Submit(conn(), "amend", p, o->wait));
  });

  auto* commit = research->add_subcommand("commit",
                                          "Commit to results: the results document's hash, a fresh "
                                          "salt and the reported outcomes, as one hash");
  add_conn(commit);
  study_arg(commit);
  commit->add_option("--results", o->results, "The results document (hashed here; it is not sent)")
      ->required();
  outcome_opts(commit, "as reported");
  commit
      ->add_option("--opening", o->opening,
                   "Where to save the opening (salt, hash, outcomes) for `disclose`; kept secret")
      ->required();
  commit->add_flag("--wait", o->wait, "Wait until the transaction is committed");
  commit->callback([=] {
    auto hash = FileHash(o->results);
    if (!hash.ok()) return void(*rc = Fail(hash.status()));
    nlohmann::json opening = {{"study", o->study}, {"results_hash", *hash}};
    if (Status s = AddOutcomes(*o, &opening); !s.ok()) return void(*rc = Fail(s));
    crypto::Init();
    uint8_t salt[32];
    RandomBytes(salt, sizeof salt);
    opening["salt"] = ToHex(ByteView(salt, sizeof salt));
    opening["commitment"] = research::ResultsCommitment(
        o->study, opening["salt"].get<std::string>(), *hash, OutcomesOf(opening["primary"]),
        OutcomesOf(opening.value("secondary", nlohmann::json::array())));
    // Saved before anything is sent: without it the commitment can never be opened.
    if (Status s = WriteFileAtomic(o->opening, opening.dump(2) + "\n", 0600, /*overwrite=*/false);
        !s.ok())
      return void(*rc = Fail(s));
    *rc = Reply(Submit(conn(), "commit_results",
                       {{"study", o->study}, {"commitment", opening["commitment"]}}, o->wait),
                {{"commitment", opening["commitment"]}, {"opening", o->opening}});
  });

  auto* disclose = research->add_subcommand(
      "disclose",
      "Disclose committed results: the node compares the outcomes with the registered ones");
  add_conn(disclose);
  study_arg(disclose);
  disclose->add_option("--opening", o->opening, "The opening `commit` saved")->required();
  disclose->add_option("--seq", o->seq,
                       "The commitment's number (default: the one the opening opens)");
  disclose->add_flag("--wait", o->wait, "Wait until the transaction is committed");
  disclose->callback([=] {
    auto opening = ReadJsonFile(o->opening);
    if (!opening.ok()) return void(*rc = Fail(opening.status()));
    auto commitment = CommitmentOf(*opening);
    if (!commitment.ok())
      return void(*rc = Fail(Status::Invalid(o->opening + ": " + commitment.status().message())));
    if ((*opening)["study"] != o->study)
      return void(*rc = Fail(Status::Invalid(o->opening + " opens results of another study")));
    uint64_t seq = o->seq;
    if (seq == 0) {
      auto client = Connect(conn());
      if (!client.ok()) return void(*rc = Fail(client.status()));
      auto study = client->Get("/v1/modules/research/studies/" + o->study);
      if (!study.ok()) return void(*rc = Fail(study.status()));
      for (const auto& r : (*study)["results"])
        if (r["commitment"] == *commitment) seq = r["seq"];
      if (seq == 0)
        return void(*rc = Fail(Status::NotFound("study " + o->study + " has no commitment " +
                                                *commitment)));
    }
    nlohmann::json p = *opening;
    p.erase("commitment");
    p["seq"] = seq;
    *rc = Reply(Submit(conn(), "disclose", p, o->wait));
  });

  auto* show = research->add_subcommand(
      "show", "A study: versions, results, disclosures and their outcome-switching flags");
  add_conn(show);
  study_arg(show);
  show->callback([=] { *rc = GetAndPrint(conn(), "/v1/modules/research/studies/" + o->study); });

  auto* list = research->add_subcommand("list", "The registered studies, in id order");
  add_conn(list);
  list->add_option("--org", o->org, "Only this organisation's studies");
  list->add_option("--after", o->after,
                   "Start after this study id (the previous page's next_after)");
  list->add_option("--limit", o->limit, "At most this many (1..1000, default 100)")
      ->check(CLI::Range(1, 1000));
  list->callback([=] {
    std::string path = "/v1/modules/research/studies?limit=" + std::to_string(o->limit);
    if (!o->org.empty()) path += "&org=" + o->org;
    if (!o->after.empty()) path += "&after=" + o->after;
    *rc = GetAndPrint(conn(), path);
  });

  auto* priority =
      research->add_subcommand("priority", "Who registered a protocol first, and who after");
  add_conn(priority);
  auto* by_file =
      priority->add_option("--protocol", o->protocol, "The protocol document (hashed here)");
  priority->add_option("--hash", o->hash, "Or its SHA-256 (64 hex digits)")->excludes(by_file);
  priority->callback([=] {
    if (o->protocol.empty() && o->hash.empty())
      return void(*rc = Fail(Status::Invalid("give --protocol or --hash")));
    if (!o->protocol.empty()) {
      auto hash = FileHash(o->protocol);
      if (!hash.ok()) return void(*rc = Fail(hash.status()));
      o->hash = *hash;
    }
    *rc = GetAndPrint(conn(), "/v1/modules/research/priority/" + o->hash);
  });

  auto* consent = research->add_subcommand(
      "consent", "Consent, as a patient, to a study using your wearable data (replaces an earlier consent)");
  add_conn(consent);
  study_arg(consent);
  consent
      ->add_option("--category", o->categories,
                   "A data category: heart_rate, spo2, steps, skin_temperature, sleep (repeatable)")
      ->required();
  consent->add_option("--until", o->until, "End: +365d, 2027-12-31 or 2027-12-31T18:00:00Z")->required();
  consent->add_flag("--wait", o->wait, "Wait until the transaction is committed");
  consent->callback([=] {
    auto until = ParseTime(o->until, Clock::System()->NowMs());
    if (!until.ok()) return void(*rc = Fail(Status::Invalid("--until: " + until.status().message())));
    *rc = Reply(Submit(conn(), "consent", {{"study", o->study}, {"categories", o->categories}, {"until", *until}},
                       o->wait));
  });

  auto* withdraw = research->add_subcommand("withdraw", "Withdraw your consent to a study");
  add_conn(withdraw);
  study_arg(withdraw);
  withdraw->add_flag("--wait", o->wait, "Wait until the transaction is committed");
  withdraw->callback([=] { *rc = Reply(Submit(conn(), "withdraw", {{"study", o->study}}, o->wait)); });

  auto* consents = research->add_subcommand(
      "consents", "Your research consents; with a study: its consents (its researchers, auditors)");
  add_conn(consents);
  consents->add_option("study", o->study, "The study id");
  consents->add_option("--after", o->after, "With a study: start after this patient key (next_after)");
  consents->callback([=] {
    if (!o->study.empty()) {
      std::string path = "/v1/modules/research/studies/" + o->study + "/consents";
      if (!o->after.empty()) path += "?after=" + o->after;
      return void(*rc = GetAndPrint(conn(), path));
    }
    auto me = OwnKeyHex(conn());
    if (!me.ok()) return void(*rc = Fail(me.status()));
    *rc = GetAndPrint(conn(), "/v1/modules/research/patients/" + *me + "/consents");
  });

  auto* aggregate = research->add_subcommand(
      "aggregate",
      "Count, mean, median and histogram of a metric over consenting patients (at least the study's k)");
  add_conn(aggregate);
  study_arg(aggregate);
  aggregate->add_option("--metric", o->metric, "heart_rate, spo2, steps, skin_temperature or sleep")->required();
  aggregate->add_option("--from", o->from, "First day, YYYY-MM-DD (UTC)")->required();
  aggregate->add_option("--to", o->to, "Last day, YYYY-MM-DD (UTC, inclusive)")->required();
  aggregate->add_option("--bin", o->bin, "Histogram bin width in the metric's unit (default: per metric)");
  aggregate->callback([=] {
    std::string path = "/v1/research/studies/" + o->study + "/aggregate?metric=" + o->metric + "&from=" + o->from +
                       "&to=" + o->to;
    if (o->bin > 0) {
      char b[32];
      std::snprintf(b, sizeof b, "%g", o->bin);
      path += std::string("&bin=") + b;
    }
    *rc = GetAndPrint(conn(), path);
  });

  auto* exp = research->add_subcommand(
      "export", "Pseudonymised readings of consenting patients, times shifted per patient by whole days");
  add_conn(exp);
  study_arg(exp);
  exp->add_option("--metric", o->metric, "heart_rate, spo2, steps, skin_temperature or sleep")->required();
  exp->add_option("--from", o->from, "From this shifted time, ms since the epoch");
  exp->add_option("--to", o->to, "Before this shifted time, ms since the epoch");
  exp->add_option("--after", o->after, "Continue after the previous page's next_after");
  exp->add_option("--limit", o->limit, "Readings per page (1..50000, default 10000)")->check(CLI::Range(1, 50000));
  exp->add_flag("--all", o->all, "Fetch every page and print one document");
  exp->callback([=] {
    o->limit_given = exp->count("--limit") > 0;
    *rc = Export(conn(), *o);
  });

  auto* verify = research->add_subcommand("verify",
                                          "Check offline that a saved proof's transaction "
                                          "registered this protocol (or committed these results)");
  verify
      ->add_option("proof", o->proof,
                   "The transaction's proof, as `carechain proof <tx> -o` saved it")
      ->required();
  verify->add_option("--protocol", o->protocol,
                     "A protocol document: the registration (or amendment) carries its SHA-256");
  verify->add_option("--opening", o->opening,
                     "An opening: the commitment transaction commits to it");
  verify->add_option("--results", o->results, "With --opening: the results document it names");
  verify->add_option("--genesis", o->genesis, "Trust the node keys named in this genesis file");
  verify->add_option("--proposer", o->proposers, "Trust this proposer key (repeatable)");
  verify->callback([=] {
    if (!o->results.empty() && o->opening.empty())
      return void(*rc = Fail(Status::Invalid("--results needs --opening")));
    auto r = VerifyOffline(*o);
    *rc = r.ok() ? Print(*r) : Fail(r.status());
  });
}

}  // namespace cc::cli
