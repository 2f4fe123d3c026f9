// The portal's own code (web/src) against what the node produced: reads a
// JSON file {proofs: [...], payloads: [{value, canonical}]} and checks that
// every proof verifies, that a tampered copy of each does not, that the
// portal's canonical JSON is the node's; or {checkpoints: [{chain_id,
// checkpoint}]}: that each verifies and tampered ones do not. Prints one line per check; exits
// non-zero on a failure.
import { readFileSync } from 'node:fs';
import { checkCheckpoint, checkProof } from '../../web/src/proof.js';
import { canonicalJson } from '../../web/src/tx.js';

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
let failed = 0;
const check = (cond, what) => {
  console.log((cond ? 'ok  ' : 'FAIL ') + what);
  if (!cond) failed++;
};

for (const p of input.proofs ?? []) {
  check(checkProof(p).ok, `proof of tx ${p.index} of ${p.count} in block ${p.header.height}`);
  const flip = (hex) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
  const tampered = [
    { ...p, result: { ...p.result, code: p.result.code ^ 1 } },
    { ...p, header: { ...p.header, time_ms: p.header.time_ms + 1 } },
    { ...p, index: p.index ^ 1 },
  ];
  if (p.path.length) tampered.push({ ...p, path: [flip(p.path[0]), ...p.path.slice(1)] });
  tampered.forEach((t, i) => check(!checkProof(t).ok, `tampered copy ${i} of that proof fails`));
}
for (const { value, canonical } of input.payloads ?? []) {
  check(canonicalJson(value) === canonical, `canonical JSON ${canonical}`);
}
for (const { chain_id: chainId, checkpoint: cp } of input.checkpoints ?? []) {
  check(checkCheckpoint(cp, chainId).ok, `checkpoint ${cp.height}: ${cp.signatures.length} signatures, quorum ${cp.quorum}`);
  const bad = structuredClone(cp);
  bad.signatures[0].state_root = bad.signatures[0].state_root.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  check(!checkCheckpoint(bad, chainId).ok, 'a signature over another state root fails');
  check(!checkCheckpoint(cp, chainId + 'x').ok, "another chain's checkpoint fails");
}
// Integers beyond 2^53 (token amounts up to 10^18) go in as BigInt.
check(canonicalJson({ amount: 18446744073709551615n }) === '{"amount":18446744073709551615}', 'BigInt integers');
process.exitCode = failed ? 1 : 0;
