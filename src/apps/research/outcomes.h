// Study outcomes: their canonical form and hash, the results commitment and
// the comparison that flags outcome switching (docs/modules/research.md).
// Pure functions: the module, its tests and the CLI share them.
//
// Outcomes are matched by their canonical form: exact, byte for byte, after
// a normalisation anyone can redo. The normalised title is an outcome's
// identity; another measure or time frame under the same title is a changed
// outcome. All hashes are SHA-256 in lower-case hex, so that a document's
// hash is what `sha256sum` prints.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace cc::research {

struct Outcome {
  std::string title;
  std::string measure;     // "" if none
  std::string time_frame;  // "" if none
};

// ASCII letters lower-cased, every run of ASCII whitespace one space, none
// at either end. Other bytes (UTF-8) are kept as they are.
std::string NormalizeText(std::string_view text);
// The normalised title, measure and time frame joined by '\n' (which
// normalisation removes from each part).
std::string CanonicalOutcome(const Outcome& o);
// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// Sha256Hex(CanonicalOutcome(o)).
std::string OutcomeHash(const Outcome& o);

// An outcome from its payload object {title, measure?, time_frame?}, and back.
Outcome OutcomeOf(const nlohmann::json& j);
nlohmann::json OutcomeJson(const Outcome& o);
std::vector<Outcome> OutcomesOf(const nlohmann::json& list);
// payload[field] if present, else an empty list (an absent list is empty).
const nlohmann::json& ListOf(const nlohmann::json& payload, const char* field);

// The "primary" and "secondary" lists of a payload that passed its schema:
// plain text (no control characters but tab, CR and LF), no part blank, and
// no normalised title twice. kInvalidArgument naming the first offender.
Status CheckOutcomeLists(const nlohmann::json& payload);
// An outcome list as the module stores it: each outcome with its
// "canonical" form and "hash".
nlohmann::json StoredOutcomes(const nlohmann::json& list);

// The commitment to a disclosure: Sha256Hex of
//   "carechain/research/results/v1\n" study "\n" salt "\n" results_hash "\n"
//   then "primary <outcome hash>\n" per primary outcome and
//   "secondary <outcome hash>\n" per secondary outcome, in the listed order.
// `salt` and `results_hash` are lower-case hex.
std::string ResultsCommitment(std::string_view study, std::string_view salt,
                              std::string_view results_hash, const std::vector<Outcome>& primary,
                              const std::vector<Outcome>& secondary);

// The differences between two outcome sets, each {"primary": [...],
// "secondary": [...]} of stored outcomes. Outcomes are matched by normalised
// title. Flags, in the order of `a`'s outcomes, then `b`'s:
// <class>_dropped (in a, not in b), <class>_changed (same title, another
// measure or time frame), primary_demoted / secondary_promoted (the class
// changed), <class>_added (in b, not in a). Each flag is {kind, title,
// <a_key>?: the canonical form in a, <b_key>?: the canonical form in b}.
nlohmann::json CompareOutcomes(const nlohmann::json& a, const nlohmann::json& b,
                               const std::string& a_key, const std::string& b_key);

}  // namespace cc::research
