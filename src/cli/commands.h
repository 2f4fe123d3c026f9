// The CLI's commands. Each returns the process exit code: 0 on success,
// 1 when the operation failed (message on stderr).
#pragma once

#include <string>
#include <vector>

namespace cc::cli {

// Where to send requests and which key signs them (RFC 9421).
struct Conn {
  std::string node;
  std::string key_file;  // empty: $CARECHAIN_KEY
  std::string ca_file;   // https: CA certificate(s) to trust; empty: $CARECHAIN_CACERT
};

struct SubmitArgs {
  std::string node, key_file, module, action, payload, ca_file;
  uint64_t nonce = 0;  // 0: ask the node
  bool wait = false;
  bool binary = false;
};

int Keygen(const std::string& out, bool force);
int TxSubmit(const SubmitArgs& a);
int TxGet(const Conn& conn, const std::string& id);
int BlockGet(const Conn& conn, const std::string& height, bool full, const std::string& out);
int ProofGet(const Conn& conn, const std::string& id, const std::string& out);
int VerifyProofFile(const std::string& file, const std::string& genesis,
                    const std::vector<std::string>& proposers);
int VerifyData(const std::string& data_dir, const std::string& genesis, bool quick, int threads);
// Runs a node until SIGINT or SIGTERM; `portal_dir` (if not empty) overrides api.portal_dir.
int RunNode(const std::string& config, bool resync, const std::string& portal_dir = "");
int DemoInit(const std::string& dir, int port, int nodes, const std::string& etcd_endpoints);
int Info(const Conn& conn);
int Query(const Conn& conn, const std::string& module, const std::string& path);

}  // namespace cc::cli
