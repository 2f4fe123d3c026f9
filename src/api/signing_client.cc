#include "api/signing_client.h"

#include "api/http_signature.h"

namespace cc::api {

http::Signer SignWith(SecretKey key) {
  return [key = std::move(key)](std::string_view method, std::string_view authority, std::string_view target,
                                std::string_view body) {
    http::Headers out;
    for (auto& [k, v] : SignTarget(key, method, authority, target, body)) out.emplace_back(std::move(k), std::move(v));
    return out;
  };
}

http::Client SigningClient(std::string url, std::optional<SecretKey> key, http::ClientOptions options) {
  return http::Client(std::move(url), std::move(options), key ? SignWith(std::move(*key)) : http::Signer());
}

}  // namespace cc::api
