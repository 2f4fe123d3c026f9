// The chain explorer: blocks, transactions, and inclusion proofs checked in
// the browser (src/proof.js). What a key may see is the node's policy: chain
// readers see every block; others their own transactions.
import { checkCheckpoint, checkProof } from '../proof.js';
import { formatTime, t } from '../i18n.js';
import { field, form, h, section, short, table } from '../ui.js';

export function explorerPage(session, rest) {
  const api = session.api;
  const [kind, id] = rest;
  const lookup = form([field(t('transaction'), h('input', { name: 'tx', required: true, pattern: '[0-9a-f]{64}' }))], '→',
    async (d) => { location.hash = `#/explorer/tx/${d.get('tx')}`; }, 'lookup');
  let body;
  if (kind === 'block') body = blockView(api, Number(id));
  else if (kind === 'tx') body = txView(api, id);
  else body = [section(t('chain'), async () => {
    const i = await api.get('/v1/info');
    const facts = h('dl', {}, [['chain_id', i.chain_id], [t('height'), String(i.height)], [t('ordering'), i.ordering],
      ['genesis', i.genesis_hash], ['state_root', i.state_root]].map(([k, v]) => [h('dt', {}, k), h('dd', { class: 'mono' }, v)]));
    return [facts, await checkpointView(api, i)];
  }, 'info'), section(t('blocks'), async () => {
    const head = await api.get('/v1/blocks/latest');
    const top = head.header.height;
    const blocks = [head];
    for (let hgt = top - 1; hgt >= Math.max(0, top - 9); hgt--) blocks.push(await api.get(`/v1/blocks/${hgt}`));
    return table([t('height'), t('time'), t('txs'), t('hash')], blocks.map((b) => [
      h('a', { href: `#/explorer/block/${b.header.height}` }, String(b.header.height)), formatTime(b.header.time_ms),
      String(b.header.tx_count), h('span', { class: 'mono' }, short(b.hash))]));
  }, 'blocks')];
  return h('div', { class: 'page' }, h('h1', {}, t('nav_explorer')), lookup, body);
}

function blockView(api, height) {
  return section(`${t('height')} ${height}`, async () => {
    const b = await api.get(`/v1/blocks/${height}`);
    const hd = b.header;
    return [h('dl', {}, [[t('hash'), b.hash], [t('time'), formatTime(hd.time_ms)], [t('proposer'), hd.proposer],
      ['tx_root', hd.tx_root], ['state_root', hd.state_root], ['prev_hash', hd.prev_hash]]
      .map(([k, v]) => [h('dt', {}, k), h('dd', { class: 'mono' }, v)])),
    table([t('transaction')], (b.tx_ids ?? []).map((x) => [h('a', { href: `#/explorer/tx/${x}`, class: 'mono' }, x)]))];
  }, 'block');
}

function txView(api, id) {
  return section(`${t('transaction')} ${short(id)}`, async () => {
    const tx = await api.get(`/v1/transactions/${id}`);
    const out = h('div', { class: 'outcome', role: 'status', 'aria-live': 'polite', id: 'proof-outcome' });
    const check = h('button', { type: 'button', onclick: async () => {
      out.replaceChildren(t('loading'));
      try {
        const r = checkProof(await api.get(`/v1/proofs/${id}`));
        out.replaceChildren(h('p', { class: r.ok ? 'verdict ok' : 'verdict bad' },
          r.ok ? `${t('proof_ok')} ${r.height}` : t('proof_bad')),
        h('ul', {}, r.steps.map((s) => h('li', {}, (s.ok ? '✓ ' : '✗ ') + s.what))));
      } catch (e) {
        out.replaceChildren(h('p', { class: 'error' }, String(e.message)));
      }
    } }, t('check_proof'));
    return [h('pre', { class: 'content' }, JSON.stringify(tx, null, 2)), check, out];
  }, 'tx');
}

// The latest certified checkpoint of an etcd cluster, its signatures checked
// here (a solo node signs none).
async function checkpointView(api, info) {
  const height = info.cluster?.last_certified;
  if (!height) return h('p', { class: 'muted' }, t('no_checkpoints'));
  const cp = await api.get(`/v1/checkpoints/${height}`);
  const r = checkCheckpoint(cp, info.chain_id);
  return h('div', { id: 'checkpoint' }, h('h3', {}, `${t('checkpoint')} ${height}`),
    h('p', { class: r.ok ? 'verdict ok' : 'verdict bad' }, r.ok ? t('checkpoint_ok') : t('checkpoint_bad')),
    h('ul', {}, r.steps.map((x) => h('li', {}, (x.ok ? '✓ ' : '✗ ') + x.what))));
}
