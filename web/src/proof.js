// Checks a transaction's inclusion proof (GET /v1/proofs/{id}) in the
// browser, trusting nothing the node says: the transaction's id, its Merkle
// path to the block's tx_root, the block hash from the header, and the
// proposer's signature over it (docs/formats.md).
import { concat, fromHex, hash, toHex, utf8, verify } from './crypto.js';
import { varint } from './tx.js';

const field = (bytes) => concat(varint(bytes.length), bytes);

export function headerHash(h) {
  return hash(
    concat(
      Uint8Array.of(1),
      field(utf8(h.chain_id)),
      varint(h.height),
      fromHex(h.prev_hash),
      varint(h.time_ms),
      fromHex(h.tx_root),
      fromHex(h.changes_hash),
      fromHex(h.state_root),
      varint(h.tx_count),
      fromHex(h.proposer),
    ),
  );
}

// {ok, height, steps: [{what, ok}]}: every step must hold.
export function checkProof(p) {
  const steps = [];
  const step = (what, ok) => steps.push({ what, ok });
  const txId = hash(fromHex(p.tx));
  step('tx id = H(transaction)', toHex(txId) === p.tx_id);
  let h = hash(concat(Uint8Array.of(0), txId, Uint8Array.of(p.result.code), field(utf8(p.result.detail))));
  let index = p.index, count = p.count, used = 0;
  while (count > 1) {
    if ((index ^ 1) < count) {
      if (used >= p.path.length) break;
      const s = fromHex(p.path[used++]);
      h = index & 1 ? hash(concat(Uint8Array.of(1), s, h)) : hash(concat(Uint8Array.of(1), h, s));
    }
    index >>= 1;
    count = (count + 1) >> 1;
  }
  step('Merkle path leads to tx_root', count === 1 && used === p.path.length && toHex(h) === p.header.tx_root);
  step('tx_count matches', p.header.tx_count === p.count);
  const blockHash = headerHash(p.header);
  step('block hash = H(header)', toHex(blockHash) === p.block_hash);
  step(
    'proposer signed the block',
    verify(fromHex(p.signature), concat(utf8('carechain:block:v1'), blockHash), fromHex(p.header.proposer)),
  );
  return { ok: steps.every((s) => s.ok), height: p.header.height, steps };
}

function be64(n) {
  const out = new Uint8Array(8);
  let v = BigInt(n);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

// Checks a checkpoint (GET /v1/checkpoints/{height}) here: every node's
// signature over its (block hash, state root), and that nodes of at least
// `quorum` organisations signed the certified pair (docs/formats.md,
// "Checkpoints"). {ok, steps}; `ok` is the browser's own verdict.
export function checkCheckpoint(cp, chainId) {
  const steps = [];
  const orgs = new Set();
  for (const sig of cp.signatures) {
    const msg = concat(utf8('carechain:checkpoint:v1'), field(utf8(chainId)), be64(sig.height), fromHex(sig.block_hash),
      fromHex(sig.state_root));
    const valid = sig.height === cp.height && verify(fromHex(sig.signature), msg, fromHex(sig.node));
    steps.push({ what: `${sig.org}: signature of node ${sig.node.slice(0, 8)}…`, ok: valid });
    if (valid && cp.certified && sig.block_hash === cp.block_hash && sig.state_root === cp.state_root) orgs.add(sig.org);
  }
  const certified = cp.certified && orgs.size >= cp.quorum;
  steps.push({ what: `${orgs.size} of ${cp.quorum} organisations needed signed the same block and state`, ok: certified });
  return { ok: certified && steps.every((x) => x.ok), steps };
}
