// The signing side of RFC 9421 for the project's one HTTP client: every
// request of the CLI, the peer forwarder, the test helpers and the load
// driver is signed here (api/http_signature.h has the format).
#pragma once

#include <optional>
#include <string>

#include "api/http/client.h"
#include "crypto/keys.h"

namespace cc::api {

// Signs each attempt afresh (a new nonce and time) with `key`.
http::Signer SignWith(SecretKey key);

// A client of the node at `url`, signing with `key` if given.
http::Client SigningClient(std::string url, std::optional<SecretKey> key, http::ClientOptions options = {});

}  // namespace cc::api
