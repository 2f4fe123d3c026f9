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
