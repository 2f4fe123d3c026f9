#include "api/http_signature.h"

#include <algorithm>

#include "crypto/sha256.h"

namespace cc::api {
namespace {

constexpr size_t kMaxRememberedNonces = 2'000'000;

Status Unauth(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }

bool IsNonceChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

struct ParsedInput {
  std::string label;
  std::vector<std::string> components;
  std::string params_text;  // the inner list with its parameters, as sent
  uint64_t created = 0;
  std::string nonce, keyid, alg;
};

// Parses `label=("c1" "c2" ...);k=v;k="v"` strictly (the subset of RFC 8941
// structured fields that RFC 9421 signature input needs).
Result<ParsedInput> ParseSignatureInput(std::string_view s) {
  ParsedInput p;
  size_t eq = s.find('=');
  if (eq == std::string_view::npos || eq == 0) return Unauth("Signature-Input has no label");
  p.label = s.substr(0, eq);
  std::string_view rest = s.substr(eq + 1);
  p.params_text = rest;
  if (rest.empty() || rest[0] != '(') return Unauth("Signature-Input must start with a component list");
  size_t i = 1;
  while (i < rest.size() && rest[i] != ')') {
    if (rest[i] == ' ') { ++i; continue; }
    if (rest[i] != '"') return Unauth("Signature-Input components must be quoted strings");
    size_t close = rest.find('"', i + 1);
    if (close == std::string_view::npos) return Unauth("Signature-Input has an unterminated string");
    p.components.emplace_back(rest.substr(i + 1, close - i - 1));
    i = close + 1;
  }
  if (i >= rest.size()) return Unauth("Signature-Input component list is not closed");
  ++i;
  while (i < rest.size()) {
    if (rest[i] != ';') return Unauth("Signature-Input parameters must be separated by ';'");
    size_t eq2 = rest.find('=', i);
    if (eq2 == std::string_view::npos) return Unauth("Signature-Input parameter without a value");
    std::string key(rest.substr(i + 1, eq2 - i - 1));
    size_t j = eq2 + 1;
    std::string value;
    if (j < rest.size() && rest[j] == '"') {
      size_t close = rest.find('"', j + 1);
      if (close == std::string_view::npos) return Unauth("Signature-Input has an unterminated string");
      value = rest.substr(j + 1, close - j - 1);
      j = close + 1;
    } else {
      size_t end = rest.find(';', j);
      if (end == std::string_view::npos) end = rest.size();
      value = rest.substr(j, end - j);
      if (value.empty() || value.size() > 12 || !std::all_of(value.begin(), value.end(), ::isdigit))
        return Unauth("Signature-Input parameter " + key + " must be a quoted string or an integer");
      j = end;
    }
    if (key == "created") p.created = std::stoull(value);
    else if (key == "nonce") p.nonce = value;
    else if (key == "keyid") p.keyid = value;
    else if (key == "alg") p.alg = value;
    else if (key != "expires") return Unauth("Signature-Input has unknown parameter '" + key + "'");
    i = j;
  }
  return p;
}

std::string Base(const RequestView& req, const std::vector<std::string>& components,
                 std::string_view params_text, const std::string& digest_header) {
  std::string base;
  for (const auto& c : components) {
    base += '"';
    base += c;
    base += "\": ";
    if (c == "@method") base += req.method;
    else if (c == "@path") base += req.path;
    else if (c == "@query") { base += '?'; base += req.query; }
    else if (c == "content-digest") base += digest_header;
    else base += req.header(c);
    base += '\n';
  }
  base += "\"@signature-params\": ";
  base += params_text;
  return base;
}

}  // namespace

std::string ContentDigest(std::string_view body) {
  auto d = Sha256(body);
  return "sha-256=:" + Base64Encode({d.data(), d.size()}) + ":";
}

std::string NewNonce() {
  uint8_t raw[16];
  RandomBytes(raw, sizeof raw);
  std::string s = Base64Encode({raw, sizeof raw});
  s.resize(22);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

SignedHeaders SignRequest(const SecretKey& key, std::string_view method, std::string_view path,
                          std::string_view query, std::string_view body, uint64_t created_s,
                          std::string_view nonce) {
  SignedHeaders h;
  h.content_digest = ContentDigest(body);
  std::string params = "(\"@method\" \"@path\" \"@query\" \"content-digest\");created=" +
                       std::to_string(created_s) + ";nonce=\"" + std::string(nonce) + "\";keyid=\"" +
                       key.public_key().hex() + "\";alg=\"ed25519\"";
  RequestView view{method, path, query, body, [](std::string_view) { return std::string(); }};
  std::string base = Base(view, {"@method", "@path", "@query", "content-digest"}, params, h.content_digest);
  Signature sig = key.Sign(AsBytes(base));
  h.signature_input = "sig1=" + params;
  h.signature = "sig1=:" + Base64Encode(sig.view()) + ":";
  return h;
}

std::vector<std::pair<std::string, std::string>> SignTarget(const SecretKey& key,
                                                            std::string_view method,
                                                            std::string_view target,
                                                            std::string_view body) {
  size_t q = target.find('?');
  SignedHeaders h = SignRequest(key, method, target.substr(0, q),
                                q == std::string_view::npos ? std::string_view() : target.substr(q + 1),
                                body, Clock::System()->NowMs() / 1000, NewNonce());
  return {{"Content-Digest", h.content_digest},
          {"Signature-Input", h.signature_input},
          {"Signature", h.signature}};
}

Result<PublicKey> RequestAuthenticator::Authenticate(const RequestView& req) {
  std::string input = req.header("signature-input");
  std::string sig_header = req.header("signature");
  if (input.empty() || sig_header.empty()) {
    return Unauth("request is not signed: send Signature-Input and Signature (RFC 9421, docs/api.md)");
  }
  CC_ASSIGN_OR_RETURN(ParsedInput p, ParseSignatureInput(input));
  for (const char* need : {"@method", "@path", "@query", "content-digest"}) {
    if (std::find(p.components.begin(), p.components.end(), need) == p.components.end())
      return Unauth(std::string("signature must cover ") + need);
  }
  if (p.alg != "ed25519") return Unauth("signature alg must be \"ed25519\"");
  auto key = PublicKey::FromHex(p.keyid);
  if (!key) return Unauth("keyid must be the signer's public key (64 hex digits)");
  if (p.nonce.size() < 16 || p.nonce.size() > 64 ||
      !std::all_of(p.nonce.begin(), p.nonce.end(), IsNonceChar)) {
    return Unauth("nonce must be 16 to 64 of [A-Za-z0-9_-]");
  }
  // Signature: label=:base64:
  std::string prefix = p.label + "=:";
  if (!sig_header.starts_with(prefix) || sig_header.size() < prefix.size() + 1 || sig_header.back() != ':')
    return Unauth("Signature header must be " + p.label + "=:<base64>:");
  auto raw = Base64Decode(std::string_view(sig_header).substr(prefix.size(), sig_header.size() - prefix.size() - 1));
  if (!raw || raw->size() != Signature::kSize) return Unauth("Signature is not a base64 Ed25519 signature");

  std::string digest = req.header("content-digest");
  if (digest != ContentDigest(req.body)) return Unauth("Content-Digest does not match the body (sha-256)");

  const uint64_t now = clock_->NowMs() / 1000;
  if (p.created > now + skew_s_) return Unauth("signature created in the future; check the clock");
  if (p.created + window_s_ < now) return Unauth("signature expired (older than " + std::to_string(window_s_) + " s)");

  std::string base = Base(req, p.components, p.params_text, digest);
  if (!Verify(*key, AsBytes(base), Signature::FromView(*raw))) return Unauth("bad request signature");
  if (!RememberNonce(p.keyid + "/" + p.nonce, now)) return Unauth("nonce already used (replayed request)");
  return *key;
}

bool RequestAuthenticator::RememberNonce(const std::string& key_and_nonce, uint64_t now_s) {
  std::lock_guard<std::mutex> lock(mu_);
  while (!expiry_order_.empty() && expiry_order_.front().first < now_s) {
    seen_.erase(expiry_order_.front().second);
    expiry_order_.pop_front();
  }
  if (seen_.size() >= kMaxRememberedNonces) return false;  // refuse rather than forget
  auto [it, fresh] = seen_.emplace(key_and_nonce, now_s + window_s_ + skew_s_);
  if (!fresh) return false;
  expiry_order_.emplace_back(it->second, key_and_nonce);
  return true;
}

}  // namespace cc::api
