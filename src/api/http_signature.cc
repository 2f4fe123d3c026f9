#include "api/http_signature.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "crypto/hash.h"
#include "crypto/sha256.h"

namespace cc::api {
namespace {

// The components every signature covers, in the order our signers list them.
constexpr const char* kRequired[] = {"@method", "@authority", "@path", "@query", "content-digest"};

// An authority is echoed in refusals: keep it short.
constexpr size_t kMaxAuthority = 255;

Status Unauth(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }

bool IsNonceChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// A lower-case header field name (an RFC 9110 token, lower-cased).
bool IsHeaderName(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct ParsedInput {
  std::string label;
  std::vector<std::string> components;
  std::string params_text;  // the inner list with its parameters, as sent
  std::optional<uint64_t> created, expires;
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
  std::vector<std::string> seen;
  while (i < rest.size()) {
    if (rest[i] != ';') return Unauth("Signature-Input parameters must be separated by ';'");
    size_t eq2 = rest.find('=', i);
    if (eq2 == std::string_view::npos) return Unauth("Signature-Input parameter without a value");
    std::string key(rest.substr(i + 1, eq2 - i - 1));
    size_t j = eq2 + 1;
    std::string value;
    bool quoted = false;
    if (j < rest.size() && rest[j] == '"') {
      size_t close = rest.find('"', j + 1);
      if (close == std::string_view::npos) return Unauth("Signature-Input has an unterminated string");
      value = rest.substr(j + 1, close - j - 1);
      quoted = true;
      j = close + 1;
    } else {
      size_t end = rest.find(';', j);
      if (end == std::string_view::npos) end = rest.size();
      value = rest.substr(j, end - j);
      if (value.empty() || value.size() > 12 || !std::all_of(value.begin(), value.end(), ::isdigit))
        return Unauth("Signature-Input parameter " + key + " must be a quoted string or an integer");
      j = end;
    }
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return Unauth("Signature-Input has parameter '" + key + "' twice");
    seen.push_back(key);
    if (key == "created" || key == "expires") {
      if (quoted) return Unauth("Signature-Input parameter " + key + " must be an integer (unix seconds)");
      (key == "created" ? p.created : p.expires) = std::stoull(value);
    } else if (key == "nonce") {
      p.nonce = value;
    } else if (key == "keyid") {
      p.keyid = value;
    } else if (key == "alg") {
      p.alg = value;
    } else {
      return Unauth("Signature-Input has unknown parameter '" + key + "'");
    }
    i = j;
  }
  return p;
}

// Refuses what the node would otherwise have to sign as an empty string.
Status CheckComponents(const std::vector<std::string>& components, const RequestView& req) {
  for (size_t i = 0; i < components.size(); ++i) {
    const std::string& c = components[i];
    if (std::find(components.begin(), components.begin() + static_cast<std::ptrdiff_t>(i), c) !=
        components.begin() + static_cast<std::ptrdiff_t>(i))
      return Unauth("signature covers \"" + c + "\" twice");
    if (std::find(std::begin(kRequired), std::end(kRequired), c) != std::end(kRequired)) continue;
    if (c.starts_with("@")) {
      return Unauth("signature covers \"" + c.substr(0, 32) +
                    "\", which this node does not support (derived components: @method "
                    "@authority @path @query)");
    }
    if (!IsHeaderName(c))
      return Unauth("signature covers an unknown component (header names are lower-case)");
    if (c == "signature" || c == "signature-input")
      return Unauth("signature cannot cover the \"" + c + "\" header");
    if (req.header(c).empty())
      return Unauth("signature covers header \"" + c + "\", which the request does not carry");
  }
  for (const char* need : kRequired) {
    if (std::find(components.begin(), components.end(), need) != components.end()) continue;
    const bool authority = std::string_view(need) == "@authority";
    return Unauth(std::string("signature must cover \"") + need + "\"" +
                  (authority ? " (the node's host:port, as sent in Host; docs/api.md)" : ""));
  }
  return Status::Ok();
}

// REQUIRES: CheckComponents(components, req) is OK.
std::string Base(const RequestView& req, std::string_view authority,
                 const std::vector<std::string>& components, std::string_view params_text,
                 const std::string& digest_header) {
  std::string base;
  for (const auto& c : components) {
    base += '"';
    base += c;
    base += "\": ";
    if (c == "@method") base += req.method;
    else if (c == "@authority") base += authority;
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

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "(none)" : out;
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

SignedHeaders SignRequest(const SecretKey& key, std::string_view method, std::string_view authority,
                          std::string_view path, std::string_view query, std::string_view body,
                          uint64_t created_s, std::string_view nonce, std::optional<uint64_t> expires_s) {
  SignedHeaders h;
  h.content_digest = ContentDigest(body);
  std::string params = "(\"@method\" \"@authority\" \"@path\" \"@query\" \"content-digest\");created=" +
                       std::to_string(created_s) + ";nonce=\"" + std::string(nonce) + "\";keyid=\"" +
                       key.public_key().hex() + "\";alg=\"ed25519\"";
  if (expires_s) params += ";expires=" + std::to_string(*expires_s);
  RequestView view{method, path, query, body, [](std::string_view) { return std::string(); }};
  std::string base = Base(view, Lower(authority), {std::begin(kRequired), std::end(kRequired)}, params,
                          h.content_digest);
  Signature sig = key.Sign(AsBytes(base));
  h.signature_input = "sig1=" + params;
  h.signature = "sig1=:" + Base64Encode(sig.view()) + ":";
  return h;
}

std::vector<std::pair<std::string, std::string>> SignTarget(const SecretKey& key, std::string_view method,
                                                            std::string_view authority,
                                                            std::string_view target, std::string_view body) {
  size_t q = target.find('?');
  SignedHeaders h = SignRequest(key, method, authority, target.substr(0, q),
                                q == std::string_view::npos ? std::string_view() : target.substr(q + 1),
                                body, Clock::System()->NowMs() / 1000, NewNonce());
  return {{"Host", Lower(authority)},
          {"Content-Digest", h.content_digest},
          {"Signature-Input", h.signature_input},
          {"Signature", h.signature}};
}

std::string AuthorityOf(std::string_view url) {
  std::string_view scheme = "http";
  if (size_t s = url.find("://"); s != std::string_view::npos) {
    scheme = url.substr(0, s);
    url.remove_prefix(s + 3);
  }
  url = url.substr(0, url.find_first_of("/?#"));
  if (size_t at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);  // userinfo
  std::string out = Lower(url);
  const std::string default_port = Lower(scheme) == "https" ? ":443" : ":80";
  if (out.size() > default_port.size() && out.ends_with(default_port))
    out.resize(out.size() - default_port.size());
  return out;
}

bool IsLoopbackHost(std::string_view host) {
  std::string h = Lower(host);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h == "localhost") return true;
  in_addr v4;
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  return ::inet_pton(AF_INET6, h.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

std::vector<std::string> DefaultAuthorities(std::string_view host, int port, bool tls) {
  std::string h = Lower(host);
  const bool wildcard = h.empty() || h == "0.0.0.0" || h == "::" || h == "[::]";
  std::vector<std::string> names;
  if (!wildcard) names.push_back(h.find(':') != std::string::npos && h.front() != '[' ? "[" + h + "]" : h);
  if (wildcard || IsLoopbackHost(h)) {
    for (const char* n : {"localhost", "127.0.0.1"}) {
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
  }
  std::vector<std::string> out;
  for (const auto& n : names) {
    out.push_back(n + ":" + std::to_string(port));
    if (port == (tls ? 443 : 80)) out.push_back(n);
  }
  return out;
}

RequestAuthenticator::RequestAuthenticator(Clock* clock, AuthenticatorOptions options)
    : clock_(clock), options_(options) {
  crypto::Init();
  RandomBytes(secret_, sizeof secret_);
}

void RequestAuthenticator::SetAuthorities(std::vector<std::string> authorities) {
  for (auto& a : authorities) a = Lower(a);
  authorities_ = std::move(authorities);
}

Result<PublicKey> RequestAuthenticator::Authenticate(const RequestView& req,
                                                     std::string_view authority_header,
                                                     const KeyResolver& registered) {
  std::string input = req.header("signature-input");
  std::string sig_header = req.header("signature");
  if (input.empty() || sig_header.empty()) {
    return Unauth("request is not signed: send Signature-Input and Signature (RFC 9421, docs/api.md)");
  }
  CC_ASSIGN_OR_RETURN(ParsedInput p, ParseSignatureInput(input));
  CC_RETURN_IF_ERROR(CheckComponents(p.components, req));
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

  if (authority_header.empty())
    return Unauth("request has no Host header: the signature's @authority names this node");
  if (authority_header.size() > kMaxAuthority) return Unauth("Host header is too long");
  const std::string authority = Lower(authority_header);
  if (std::find(authorities_.begin(), authorities_.end(), authority) == authorities_.end()) {
    return Unauth("request is signed for " + authority +
                  ", which this node does not answer to (@authority must be one of: " +
                  Join(authorities_) + ")");
  }

  const uint64_t now = clock_->NowMs() / 1000;
  if (!p.created) return Unauth("Signature-Input needs created=<unix seconds>");
  if (*p.created > now + options_.skew_s) return Unauth("signature created in the future; check the clock");
  if (*p.created + options_.window_s < now)
    return Unauth("signature expired (older than " + std::to_string(options_.window_s) + " s)");
  if (p.expires) {
    if (*p.expires <= *p.created) return Unauth("signature's expires is not after its created");
    if (*p.expires <= now)
      return Unauth("signature expired at " + std::to_string(*p.expires) +
                    " (its expires parameter); now is " + std::to_string(now));
  }

  std::string digest = req.header("content-digest");
  if (digest != ContentDigest(req.body)) return Unauth("Content-Digest does not match the body (sha-256)");

  std::string base = Base(req, authority, p.components, p.params_text, digest);
  if (!Verify(*key, AsBytes(base), Signature::FromView(*raw))) return Unauth("bad request signature");
  // Who signed decides where the nonce may be kept: ask before keeping it.
  const bool known = registered && registered(*key);
  CC_RETURN_IF_ERROR(Remember(*key, p.nonce, known, now));
  return *key;
}

Status RequestAuthenticator::Remember(const PublicKey& key, std::string_view nonce, bool registered,
                                      uint64_t now_s) {
  auto fingerprint = [this](ByteView a, std::string_view b) {
    Hasher h;
    h.Update(ByteView(secret_, sizeof secret_)).Update(a).Update(b);
    Hash256 d = h.Finish();
    uint64_t v;
    std::memcpy(&v, d.bytes.data(), sizeof v);
    return v;
  };
  const uint64_t owner = fingerprint(key.view(), "");
  const uint64_t fp = fingerprint(key.view(), nonce);
  const uint64_t window = options_.window_s + options_.skew_s;

  std::lock_guard<std::mutex> lock(mu_);
  ExpireLocked(now_s);
  if (seen_.contains(fp)) return Unauth("nonce already used (replayed request)");
  Pool pool;
  if (!registered) {
    if (unregistered_ >= options_.max_unregistered_nonces) {
      return Status::Unavailable("this node is receiving too many requests signed by keys it does not know "
                                 "(not a registered, active actor or node); try again in a minute");
    }
    pool = Pool::kUnregistered;
    ++unregistered_;
  } else {
    auto it = owners_.find(owner);
    const size_t held = it == owners_.end() ? 0 : it->second;
    if (held >= options_.max_nonces_per_key) {
      return Status::Unavailable("this key signed more than " + std::to_string(options_.max_nonces_per_key) +
                                 " requests in the last " + std::to_string(window) + " s; slow down");
    }
    if (registered_ - reserve_ < options_.max_registered_nonces) {
      pool = Pool::kRegistered;
    } else if (held < options_.light_key_nonces && reserve_ < options_.registered_reserve) {
      pool = Pool::kReserve;
      ++reserve_;
    } else {
      return Status::Unavailable(
          "this node is busy remembering recent requests; a key that signed more than " +
          std::to_string(options_.light_key_nonces) + " in the last " + std::to_string(window) +
          " s must wait");
    }
    ++registered_;
    ++owners_[owner];
  }
  seen_.insert(fp);
  order_.push_back({fp, owner, static_cast<uint32_t>(std::min<uint64_t>(now_s + window, UINT32_MAX)), pool});
  return Status::Ok();
}

void RequestAuthenticator::ExpireLocked(uint64_t now_s) {
  while (!order_.empty() && order_.front().expiry_s < now_s) {
    const Entry& e = order_.front();
    seen_.erase(e.fingerprint);
    if (e.pool == Pool::kUnregistered) {
      --unregistered_;
    } else {
      --registered_;
      if (e.pool == Pool::kReserve) --reserve_;
      auto it = owners_.find(e.owner);
      if (it != owners_.end() && --it->second == 0) owners_.erase(it);
    }
    order_.pop_front();
  }
}

RequestAuthenticator::Stats RequestAuthenticator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {registered_, reserve_, unregistered_, owners_.size()};
}

}  // namespace cc::api
