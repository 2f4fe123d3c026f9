// The patient's page: records (erasable), providers' access requests,
// consents (grant, revoke), who accessed what, wearables and their rules,
// research consents, tokens, visits and reviews, erasure requests.
import { formatTime, t } from '../i18n.js';
import { errorBox, field, form, h, section, short, table } from '../ui.js';
import { erasureSection, researchSection, rulesSection, twoStepButton, wearablesSection } from './patient_more.js';

const PURPOSES = ['treatment', 'research', 'payment', 'public_health'];

function consentStatus(c) {
  if (c.status === 'revoked' || c.revoked_at) return 'revoked';
  if (c.until && c.until < Date.now()) return 'expired';
  return c.status ?? 'active';
}

// "2026-12-31" -> the end of that day (UTC), in ms.
const endOfDay = (iso) => Date.parse(iso + 'T23:59:59Z');

export function patientPage(session) {
  const api = session.api;
  const me = session.key.publicHex;

  // Newest first, filtered by category and custodian.
  const records = section(t('records'), async (reload) => {
    const all = (await api.get(`/v1/patients/${me}/records`)).records
      .sort((a, b) => (b.published_at ?? 0) - (a.published_at ?? 0));
    const choose = (name, values) => h('select', { name }, h('option', { value: '' }, t('all')),
      [...new Set(values)].sort().map((v) => h('option', { value: v }, v)));
    const category = choose('category', all.map((x) => x.category));
    const custodian = choose('custodian', all.map((x) => x.custodian));
    const list = h('div', { id: 'record-list' });
    const show = () => {
      const rows = all.filter((x) => (!category.value || x.category === category.value) &&
        (!custodian.value || x.custodian === custodian.value));
      list.replaceChildren(table([t('record'), t('type'), t('category'), t('custodian'), t('date'), ''],
        rows.map((x) => [h('span', { class: 'mono' }, short(x.id)), x.resource_type, x.category,
          x.custodian, formatTime(x.published_at ?? 0),
          x.status === 'erased' ? t('erased') : twoStepButton(t('erase_record'), t('really_erase'), async () => {
            await api.request('POST', `/v1/records/${x.id}/erasure?wait=commit`);
            reload();
          }, { 'data-erase': x.id })])));
    };
    category.addEventListener('change', show);
    custodian.addEventListener('change', show);
    show();
    return [h('div', { class: 'filters' }, field(t('category'), category), field(t('custodian'), custodian)), list];
  }, 'records');

  const consents = section(t('consents'), async (reload) => {
    const r = await api.get(`/v1/patients/${me}/consents`);
    const rows = r.consents.map((c) => {
      const status = consentStatus(c);
      return [h('span', { class: 'mono' }, short(c.grantee ?? c.grantee_org)),
        (c.categories ?? []).concat((c.records ?? []).map(short)).join(', '), t('purpose_' + c.purpose),
        formatTime(c.until), h('span', { class: 'status-' + status }, t('consent_' + status) ?? status),
        status === 'active' ? h('button', { type: 'button', 'data-consent': c.id, onclick: async (ev) => {
          ev.target.disabled = true;
          await api.submit('records', 'revoke', { consent: c.id }).then(reload, (e) => ev.target.replaceWith(errorBox(e)));
        } }, t('revoke')) : ''];
    });
    const grantee = h('input', { name: 'grantee', required: true, autocomplete: 'off' });
    const categories = h('input', { name: 'categories', required: true, value: '' });
    const purpose = h('select', { name: 'purpose' }, PURPOSES.map((p) => h('option', { value: p }, t('purpose_' + p))));
    const until = h('input', { type: 'date', name: 'until', required: true });
    const grant = form([field(t('grantee'), grantee), field(t('categories'), categories), field(t('purpose'), purpose),
      field(t('until'), until)], t('grant'), async (d) => {
      const who = String(d.get('grantee')).trim();
      const payload = {
        categories: String(d.get('categories')).split(',').map((s) => s.trim()).filter(Boolean),
        purpose: String(d.get('purpose')),
        until: endOfDay(String(d.get('until'))),
      };
      if (/^[0-9a-f]{64}$/.test(who)) payload.grantee = who;
      else payload.grantee_org = who;
      await api.submit('records', 'grant', payload);
      reload();
    }, 'grant');
    return [table([t('grantee'), t('categories'), t('purpose'), t('until'), t('status'), ''], rows), h('h3', {}, t('grant')),
      grant];
  }, 'consents');

  const requests = section(t('requests'), async (reload) => {
    const r = await api.get(`/v1/patients/${me}/requests`);
    const pending = r.requests.filter((q) => q.status === 'pending');
    const answered = r.requests.filter((q) => q.status !== 'pending');
    const cards = pending.map((q) => h('div', { class: 'card', 'data-request': q.id },
      h('p', {}, h('strong', {}, q.org), ` (${short(q.provider)}) · ${t('purpose_' + q.purpose)} · `,
        (q.categories ?? []).concat((q.records ?? []).map(short)).join(', ')),
      h('p', {}, `${t('reason')}: ${q.reason}`),
      form([field(t('until'), h('input', { type: 'date', name: 'until', required: true }))], t('grant'), async (d) => {
        const payload = { grantee: q.provider, purpose: q.purpose, until: endOfDay(String(d.get('until'))), request: q.id };
        if (q.categories) payload.categories = q.categories;
        if (q.records) payload.records = q.records;
        await api.submit('records', 'grant', payload);
        reload();
      }, 'grant-' + q.id),
      h('button', { type: 'button', class: 'danger', onclick: async (ev) => {
        ev.target.disabled = true;
        await api.submit('records', 'decline', { request: q.id }).then(reload, (e) => ev.target.replaceWith(errorBox(e)));
      } }, t('decline'))));
    return [cards.length ? cards : h('p', { class: 'muted' }, t('none')),
      answered.length ? table([t('provider'), t('purpose'), t('status')],
        answered.map((q) => [q.org, t('purpose_' + q.purpose), t('request_' + q.status)])) : null];
  }, 'requests');

  const access = section(t('access_log'), async () => {
    const r = await api.get(`/v1/patients/${me}/access-log`);
    const entries = r.access;
    return table([t('when'), t('reader'), t('record'), t('purpose'), t('outcome'), ''],
      entries.map((e) => [formatTime(e.at), h('span', { class: 'mono' }, short(e.reader)), short(e.record ?? e.data ?? ''),
        e.purpose, t(e.outcome) ?? e.outcome, e.emergency ? h('strong', { class: 'badge-emergency' }, t('emergency')) : '']),
      (_, i) => ({ class: entries[i].emergency ? 'emergency' : null }));
  }, 'access-log');

  const tokens = section(t('token'), async () => {
    const r = await api.get(`/v1/modules/token/accounts/${me}/history`);
    return [h('p', { class: 'big' }, t('balance') + ': ', h('strong', { id: 'token-balance' }, String(r.balance))),
      table([t('when'), t('from'), t('to'), t('amount'), t('memo')],
        r.history.map((x) => [formatTime(x.at), short(x.from), short(x.to), String(x.amount), x.memo ?? '']))];
  }, 'tokens');

  const visits = section(t('visits'), async (reload) => {
    const r = await api.get(`/v1/modules/reviews/patients/${me}/visits`);
    return r.visits.length ? r.visits.map((v) => h('div', { class: 'card' },
      h('p', {}, `${t('visit')} ${v.date} · ${v.provider} · `, h('span', { class: 'mono' }, v.visit)),
      v.review ? [h('p', {}, `${t('reviewed')}: ${v.review.current.overall}/5`), correctionForm(api, v, reload)]
        : reviewForm(api, v, reload))) : h('p', {}, t('none'));
  }, 'visits');

  return h('div', { class: 'page' }, h('h1', {}, t('nav_patient')), records, requests, consents, access, wearablesSection(api, me),
    rulesSection(api),
    researchSection(api, me), tokens, visits, erasureSection(api));
}

// A text handed to the review platform first: {text_ref, text_hash}, or {}.
async function sealedText(api, words) {
  if (!words) return {};
  const sealed = await api.post('/v1/reviews/texts', { text: words });
  return { text_ref: sealed.ref, text_hash: sealed.hash };
}

// A correction, appended to the review and shown with the original.
function correctionForm(api, visit, reload) {
  const overall = h('select', { name: 'overall' }, h('option', { value: '' }, '–'),
    [5, 4, 3, 2, 1].map((n) => h('option', { value: n }, String(n))));
  const text = h('textarea', { name: 'text', rows: 2, maxlength: 5000 });
  return h('details', {}, h('summary', {}, t('add_correction')),
    form([field(t('overall'), overall), field(t('text'), text)], t('add_correction'), async (d) => {
      const payload = { review: visit.review.review, ...(await sealedText(api, String(d.get('text') ?? '').trim())) };
      if (d.get('overall')) payload.overall = Number(d.get('overall'));
      await api.submit('reviews', 'correct', payload);
      reload();
    }, 'correct-' + visit.visit));
}

function reviewForm(api, visit, reload) {
  const overall = h('select', { name: 'overall' }, [5, 4, 3, 2, 1].map((n) => h('option', { value: n }, String(n))));
  const text = h('textarea', { name: 'text', rows: 3, maxlength: 5000 });
  return form([field(t('overall'), overall), field(t('text'), text)], t('write_review'), async (d) => {
    const payload = { visit: visit.visit, overall: Number(d.get('overall')),
      ...(await sealedText(api, String(d.get('text') ?? '').trim())) };
    await api.submit('reviews', 'review', payload);
    reload();
  }, 'review-' + visit.visit);
}
