// Keys, hashes and encodings. Keys never leave the browser: the portal signs
// transactions and API requests here (docs/portal.md).
import { ed25519 } from '@noble/curves/ed25519.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { sha256 } from '@noble/hashes/sha2.js';

export const utf8 = (s) => new TextEncoder().encode(s);

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function fromHex(hex) {
  if (!/^([0-9a-f]{2})*$/.test(hex)) throw new Error('not lower-case hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toBase64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// BLAKE2b-256, the ledger's hash H.
export const hash = (bytes) => blake2b(bytes, { dkLen: 32 });
export const sha256Digest = (bytes) => sha256(bytes);

// An Ed25519 key as the CLI's key files hold it:
// {"type": "ed25519", "public_key": <64 hex>, "seed": <64 hex>}.
export class Key {
  constructor(seed) {
    if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new Error('a key seed is 32 bytes');
    this.seed = seed;
    this.publicKey = ed25519.getPublicKey(seed);
    this.publicHex = toHex(this.publicKey);
  }

  static generate() {
    return new Key(ed25519.utils.randomSecretKey());
  }

  // Parses a key file's text; throws an Error naming what is wrong.
  static fromFile(text) {
    let j;
    try {
      j = JSON.parse(text);
    } catch {
      throw new Error('key_file_not_json');
    }
    if (!j || j.type !== 'ed25519' || typeof j.seed !== 'string' || !/^[0-9a-f]{64}$/.test(j.seed))
      throw new Error('key_file_shape');
    const k = new Key(fromHex(j.seed));
    if (j.public_key !== k.publicHex) throw new Error('key_file_mismatch');
    return k;
  }

  // The key file, byte for byte as the CLI writes it.
  toFile() {
    return JSON.stringify({ public_key: this.publicHex, seed: toHex(this.seed), type: 'ed25519' }, null, 2) + '\n';
  }

  sign(message) {
    return ed25519.sign(message, this.seed);
  }
}

export function verify(signature, message, publicKey) {
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}
