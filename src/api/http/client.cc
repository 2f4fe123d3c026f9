#include "api/http/client.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <cctype>
#include <limits>
#include <optional>
#include <thread>

namespace cc::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
};

Result<Url> ParseUrl(std::string_view url) {
  Url u;
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else if (url.starts_with("https://")) {
    url.remove_prefix(8);
    u.tls = true;
  } else {
    return Status::Invalid("the node URL must start with http:// or https://, not '" + std::string(url) + "'");
  }
  url = url.substr(0, url.find('/'));
  size_t colon = url.rfind(':');
  if (!url.empty() && url.front() == '[') {  // [::1]:8080
    size_t close = url.find(']');
    if (close == std::string_view::npos) return Status::Invalid("unterminated IPv6 address in the node URL");
    u.host = std::string(url.substr(1, close - 1));
    colon = url.find(':', close);
  } else {
    u.host = std::string(url.substr(0, colon));
  }
  u.port = colon == std::string_view::npos ? (u.tls ? "443" : "80") : std::string(url.substr(colon + 1));
  if (u.host.empty() || u.port.empty() || u.port.size() > 5 ||
      !std::all_of(u.port.begin(), u.port.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return Status::Invalid("the node URL needs a host and a numeric port");
  }
  return u;
}

}  // namespace

std::string Reply::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return "";
}

struct Client::Impl {
  std::string url;
  ClientOptions options;
  Signer signer;
  Result<Url> parsed = Status::Invalid("unset");
  std::string authority;
  net::io_context ioc;
  std::optional<ssl::context> tls;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& Lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  bool connected() { return (plain || secure) && Lowest().socket().is_open(); }

  // Runs one asynchronous operation to completion (its time-out is the
  // stream's expiry): the blocking interface over Beast's timed operations.
  template <typename Start>
  beast::error_code Run(Start start) {
    beast::error_code result = net::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  void Close() {
    beast::error_code ec;
    if (plain || secure) Lowest().socket().close(ec);
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  Status Connect() {
    Close();
    const Url& u = *parsed;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto endpoints = resolver.resolve(u.host, u.port, ec);
    if (ec) return Status::Unavailable("cannot resolve " + u.host + ": " + ec.message());
    if (u.tls) {
      if (!tls) {
        tls.emplace(ssl::context::tls_client);
        tls->set_verify_mode(ssl::verify_peer);
        if (options.ca_file.empty()) tls->set_default_verify_paths(ec);
        else tls->load_verify_file(options.ca_file, ec);
        if (ec) {
          tls.reset();
          return Status::Invalid("cannot load the CA file " + options.ca_file + ": " + ec.message());
        }
      }
      secure.emplace(net::make_strand(ioc), *tls);
      if (!SSL_set_tlsext_host_name(secure->native_handle(), u.host.c_str())) {
        return Status::Unavailable("cannot set the TLS server name " + u.host);
      }
      secure->set_verify_callback(ssl::host_name_verification(u.host));
    } else {
      plain.emplace(net::make_strand(ioc));
    }
    Lowest().expires_after(options.connect_timeout);
    ec = Run([&](auto done) { Lowest().async_connect(endpoints, done); });
    if (ec) {
      Close();
      return Status::Unavailable("cannot reach " + url + ": " + ec.message());
    }
    Lowest().socket().set_option(tcp::no_delay(true), ec);
    if (secure) {
      Lowest().expires_after(options.connect_timeout);
      ec = Run([&](auto done) { secure->async_handshake(ssl::stream_base::client, done); });
      if (ec) {
        Close();
        return Status::Unavailable("cannot reach " + url + ": the TLS handshake failed: " + ec.message());
      }
    }
    return Status::Ok();
  }

  // One attempt. `*sent_nothing` tells whether the failure came before any
  // byte of a reply (then the request may be sent again).
  Result<Reply> Attempt(const bhttp::request<bhttp::string_body>& req, bool* reply_started) {
    *reply_started = false;
    Lowest().expires_after(options.request_timeout);
    beast::error_code ec = secure ? Run([&](auto done) { bhttp::async_write(*secure, req, done); })
                                  : Run([&](auto done) { bhttp::async_write(*plain, req, done); });
    if (ec) {
      Close();
      return Status::Unavailable("cannot send to " + url + ": " + ec.message());
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    parser.header_limit(64 << 10);
    ec = secure ? Run([&](auto done) { bhttp::async_read(*secure, buffer, parser, done); })
                : Run([&](auto done) { bhttp::async_read(*plain, buffer, parser, done); });
    if (ec) {
      *reply_started = parser.got_some() || ec == beast::error::timeout;
      Close();
      return Status::Unavailable(ec == beast::error::timeout ? "no reply from " + url + " in time"
                                                             : "no reply from " + url + ": " + ec.message());
    }
    *reply_started = true;
    auto res = parser.release();
    Reply out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) Close();
    return out;
  }
};

Client::Client(std::string url, ClientOptions options, Signer signer) : impl_(std::make_unique<Impl>()) {
  impl_->url = std::move(url);
  impl_->options = std::move(options);
  impl_->signer = std::move(signer);
  impl_->parsed = ParseUrl(impl_->url);
  if (impl_->parsed.ok()) {
    const Url& u = *impl_->parsed;
    // As browsers send Host: no port when it is the scheme's default.
    impl_->authority = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    if (u.port != (u.tls ? "443" : "80")) impl_->authority += ":" + u.port;
  }
}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const std::string& Client::url() const { return impl_->url; }
const std::string& Client::authority() const { return impl_->authority; }
void Client::Disconnect() { impl_->Close(); }

Result<Reply> Client::Send(std::string_view method, std::string_view target, std::string_view body,
                           std::string_view content_type, const Headers& extra) {
  Impl& m = *impl_;
  if (!m.parsed.ok()) return m.parsed.status();
  int waits = 0;
  bool reconnected = false;
  for (;;) {
    bool fresh = false;
    if (!m.connected()) {
      CC_RETURN_IF_ERROR(m.Connect());
      fresh = true;
    }
    bhttp::request<bhttp::string_body> req;
    req.version(11);
    req.method_string(std::string(method));
    req.target(std::string(target));
    req.set(bhttp::field::host, m.authority);
    req.set(bhttp::field::user_agent, "carechain");
    if (!content_type.empty()) req.set(bhttp::field::content_type, std::string(content_type));
    if (m.signer) {
      for (auto& [k, v] : m.signer(method, m.authority, target, body)) req.set(k, v);
    }
    for (const auto& [k, v] : extra) req.set(k, v);  // may replace Host (tests of other authorities)
    req.body() = std::string(body);
    req.keep_alive(true);
    req.prepare_payload();
    bool reply_started = false;
    Result<Reply> r = m.Attempt(req, &reply_started);
    if (!r.ok()) {
      // A kept-alive connection the server had closed: once more on a new one.
      if (!fresh && !reply_started && !reconnected) {
        reconnected = true;
        continue;
      }
      return r.status();
    }
    if ((r->status == 429 || r->status == 503) && waits < m.options.max_retries) {
      std::string after = r->Header("retry-after");
      char* end = nullptr;
      unsigned long s = after.empty() ? 0 : std::strtoul(after.c_str(), &end, 10);
      auto wait = std::chrono::seconds(s);
      if (!after.empty() && end && *end == '\0' && wait <= m.options.max_retry_wait) {
        ++waits;
        // At least a little: "Retry-After: 0" must not spin.
        std::this_thread::sleep_for(std::max<std::chrono::milliseconds>(wait, std::chrono::milliseconds(50 * waits)));
        continue;
      }
    }
    return r;
  }
}

}  // namespace cc::http
