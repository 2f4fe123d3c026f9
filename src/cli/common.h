// Helpers shared by the CLI's command files (defined in commands.cc).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cli/client.h"
#include "cli/commands.h"
#include "ledger/proof.h"
#include "util/status.h"

namespace cc::cli {

// "@file" reads an argument from a file, "-" from standard input; anything
// else is the argument itself.
Result<std::string> ReadPayload(const std::string& arg);
// --node, --cacert and --key on a command, into the shared connection options.
void AddConnOptions(CLI::App* c, std::string* node, std::string* ca_file, std::string* key,
                    const char* key_help = "Your key file: signs (default: $CARECHAIN_KEY)");
// Prints "error: <message>" on stderr; returns 1.
int Fail(const Status& s);
// Prints `j` indented on stdout; returns 0.
int Print(const nlohmann::json& j);
// A client signing with the connection's key file (or $CARECHAIN_KEY).
Result<Client> Connect(const Conn& conn);
// A client that does not sign (the public endpoints).
Client ConnectUnsigned(const Conn& conn);
// GET `path` signed with the connection's key; prints the JSON reply.
int GetAndPrint(const Conn& conn, const std::string& path);
// The key file of `conn` (or $CARECHAIN_KEY); kInvalidArgument if none.
Result<std::string> KeyFileOf(const Conn& conn);
// The public key (hex) of that key file: "my" account, devices, consents.
Result<std::string> OwnKeyHex(const Conn& conn);
// Signs the transaction `a` describes with its key file and sends it: the
// node's reply ({id, status}, and its result once committed with a.wait).
// A transaction that commits but is rejected is a reply, not an error.
Result<nlohmann::json> SubmitTx(const SubmitArgs& a);
// SubmitTx of `module`'s `action` with the connection's key file.
Result<nlohmann::json> SubmitAction(const Conn& c, std::string_view module, std::string_view action,
                                    const nlohmann::json& payload, bool wait);
// Prints a submission's reply; the exit code: 0, or 1 if it failed or
// committed rejected (the reply, with the reason, is printed then too).
int PrintReply(const Result<nlohmann::json>& reply);
// Checks an inclusion proof offline (ledger/proof.h). The block's proposer
// must be a node of the genesis file `genesis` (whose chain id the proof
// must also carry) or one of `proposers` (hex keys); with neither, the
// proof is only checked to be consistent in itself.
Result<VerifiedProof> CheckProof(nlohmann::json proof, const std::string& genesis,
                                 const std::vector<std::string>& proposers);

}  // namespace cc::cli
