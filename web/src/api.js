// The node's API, every request signed in the browser (RFC 9421, as
// docs/api.md specifies the signature base) and every transaction signed
// here before it is sent.
import { sha256Digest, toBase64, utf8 } from './crypto.js';
import { signTx } from './tx.js';

export class ApiError extends Error {
  // `status` the HTTP status (0: the node did not answer); `code` the API's
  // error code, or the committed transaction's result code.
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function requestNonce() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// The three signature headers for a request of `key` to the node at
// `authority` ("host:port" as the browser sends it in Host: location.host for
// the node that served the portal). The browser sets Host itself.
export function signatureHeaders(key, method, authority, target, body) {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '?' : target.slice(q);
  const digest = 'sha-256=:' + toBase64(sha256Digest(body)) + ':';
  const created = Math.floor(Date.now() / 1000);
  const params =
    `("@method" "@authority" "@path" "@query" "content-digest");created=${created};` +
    `nonce="${requestNonce()}";keyid="${key.publicHex}";alg="ed25519"`;
  const base =
    `"@method": ${method}\n"@authority": ${authority.toLowerCase()}\n"@path": ${path}\n"@query": ${query}\n` +
    `"content-digest": ${digest}\n"@signature-params": ${params}`;
  return {
    'Content-Digest': digest,
    'Signature-Input': 'sig1=' + params,
    Signature: 'sig1=:' + toBase64(key.sign(utf8(base))) + ':',
  };
}

export class Api {
  constructor(key, base = '') {
    this.key = key;
    this.base = base;
    this.info = null;
    this.nextNonce = 0;
  }

  // Sends a signed request; resolves to the parsed JSON (or text) of a 2xx
  // answer, throws ApiError otherwise.
  async request(method, target, body = null, contentType = 'application/json') {
    const bytes = body === null ? new Uint8Array(0) : typeof body === 'string' ? utf8(body) : body;
    const headers = signatureHeaders(this.key, method, this.authority(), target, bytes);
    if (body !== null) headers['Content-Type'] = contentType;
    let res;
    try {
      res = await fetch(this.base + target, { method, headers, body: body === null ? undefined : bytes });
    } catch (e) {
      throw new ApiError(0, 'unreachable', String(e));
    }
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) throw new ApiError(res.status, json?.code ?? 'http_' + res.status, json?.message ?? text);
    return json ?? text;
  }

  // The node's name as this browser sends it in Host.
  authority() {
    return this.base ? new URL(this.base).host : location.host;
  }

  get(target) {
    return this.request('GET', target);
  }

  // Reads a stream of server-sent events, signed like any request: calls
  // `onOpen()` once the node answered, then `onEvent(name, data)` for each
  // event, until `signal` aborts or the node ends the stream. (The browser's
  // EventSource cannot sign a request.)
  async stream(target, { onOpen = () => {}, onEvent, signal }) {
    const headers = signatureHeaders(this.key, 'GET', this.authority(), target, new Uint8Array(0));
    const res = await fetch(this.base + target, { headers, signal });
    if (!res.ok) {
      const text = await res.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
      throw new ApiError(res.status, json?.code ?? 'http_' + res.status, json?.message ?? text);
    }
    onOpen();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += value;
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        let name = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) name = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (data) onEvent(name, data);
      }
    }
  }

  post(target, obj) {
    return this.request('POST', target, JSON.stringify(obj));
  }

  async chainInfo() {
    if (!this.info) this.info = await this.get('/v1/info');
    return this.info;
  }

  // Signs `module`.`action` with `payload` under the key's next nonce and
  // waits for its commit. Resolves to the committed status; throws ApiError
  // when the node refuses it or it commits rejected (code = the result code).
  async submit(module, action, payload) {
    const { chain_id: chainId } = await this.chainInfo();
    const { next_nonce: next } = await this.get(`/v1/actors/${this.key.publicHex}/nonce`);
    const nonce = Math.max(next, this.nextNonce);
    const tx = signTx(this.key, { chainId, nonce, module, action, payload });
    const status = await this.request('POST', '/v1/transactions?wait=commit', tx.raw, 'application/octet-stream');
    this.nextNonce = nonce + 1;
    if (status.status !== 'committed') throw new ApiError(202, 'pending', 'the transaction is not committed yet');
    if (status.result.code !== 'ok') throw new ApiError(200, status.result.code, status.result.detail);
    return status;
  }
}
