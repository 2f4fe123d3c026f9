// Transactions as the ledger encodes them (docs/formats.md, "Transaction")
// and canonical JSON payloads (src/codec/canonical_json.h).
import { concat, hash, toHex, utf8 } from './crypto.js';

const TX_DOMAIN = utf8('carechain:tx:v1');

function compareUtf8(a, b) {
  const x = utf8(a), y = utf8(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

// The one textual form of a payload: keys sorted by their UTF-8 bytes, no
// whitespace, integers only (BigInt for those beyond 2^53), shortest escapes.
export function canonicalJson(value) {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || Object.is(value, -0)) throw new Error('payloads hold integers only');
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort(compareUtf8);
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(value[k])).join(',') + '}';
}

export function varint(n) {
  let v = BigInt(n);
  const out = [];
  while (v >= 0x80n) {
    out.push(Number((v & 0x7fn) | 0x80n));
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

const field = (bytes) => concat(varint(bytes.length), bytes);

// Signs a transaction; returns {raw (binary encoding), id (hex)}.
export function signTx(key, { chainId, nonce, module, action, payload }) {
  const unsigned = concat(
    Uint8Array.of(1),
    field(utf8(chainId)),
    key.publicKey,
    varint(nonce),
    field(utf8(module)),
    field(utf8(action)),
    field(utf8(canonicalJson(payload))),
  );
  const raw = concat(unsigned, key.sign(concat(TX_DOMAIN, unsigned)));
  return { raw, id: toHex(hash(raw)) };
}
