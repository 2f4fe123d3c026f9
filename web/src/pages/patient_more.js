// The rest of the patient's page: wearables (trends and alerts), research
// consents, and erasure requests. Every destructive button asks twice.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatTime, t } from '../i18n.js';
import { errorBox, field, form, h, section, short, table } from '../ui.js';

// A button that runs `action` only on a second, confirming click.
export function twoStepButton(label, confirmLabel, action, attrs = {}) {
  let armed = false;
  const b = h('button', { type: 'button', class: 'danger', ...attrs, onclick: async () => {
    if (!armed) {
      armed = true;
      b.textContent = confirmLabel;
      return;
    }
    b.disabled = true;
    try {
      await action();
    } catch (e) {
      b.replaceWith(errorBox(e));
    }
  } }, label);
  return b;
}

// The alerts table, kept current by the node's alert stream while it is on
// the page: a new alert shows at the top as it is raised.
let openStream = null;
function liveAlerts(api, alerts) {
  const shown = [...alerts];
  const render = () => table([t('when'), t('metric'), t('value'), t('message')],
    shown.map((a) => [formatTime(a.at), a.metric, String(a.value), a.message]), () => ({ class: 'alert-row' }));
  const box = h('div', { class: 'alerts', 'data-stream': 'connecting' }, render());
  openStream?.abort();
  const controller = new AbortController();
  openStream = controller;
  // The page moved on (the box was shown and is gone): stop listening.
  let shownOnce = false;
  const watch = setInterval(() => {
    if (box.isConnected) shownOnce = true;
    else if (shownOnce) controller.abort();
  }, 2000);
  api.stream('/v1/wearables/alerts/stream', {
    signal: controller.signal,
    onOpen: () => { box.dataset.stream = 'open'; },
    onEvent: (name, data) => {
      if (name !== 'alert') return;
      shown.unshift(JSON.parse(data));
      box.replaceChildren(render());
    },
  }).catch(() => {}).finally(() => {
    box.dataset.stream = 'closed';
    clearInterval(watch);
  });
  return box;
}

export function wearablesSection(api, me) {
  return section(t('wearables'), async () => {
    const { devices } = await api.get(`/v1/modules/wearables/patients/${me}/devices`);
    const { alerts } = await api.get('/v1/wearables/alerts?limit=50');
    const parts = [h('h3', {}, t('alerts')), liveAlerts(api, alerts)];
    for (const d of devices) {
      parts.push(h('h3', {}, `${d.kind ?? t('device')} ${short(d.device)}`));
      if (!d.batches || d.erased_at) {
        parts.push(h('p', { class: 'muted' }, d.erased_at ? t('erased') : t('none')));
        continue;
      }
      // The latest batches (up to three), one curve per metric.
      const first = Math.max(1, d.batches - 2);
      const readings = [];
      for (let seq = first; seq <= d.batches; seq++) {
        readings.push(...(await api.get(`/v1/wearables/devices/${d.device}/readings?seq=${seq}`)).readings);
      }
      const metrics = [...new Set(readings.map((r) => r.metric))];
      for (const m of metrics) {
        const rs = readings.filter((r) => r.metric === m).sort((a, b) => a.t - b.t);
        const plot = h('div', { class: 'plot trend', role: 'img', 'aria-label': `${m}: ${rs.length} ${t('readings')}` });
        requestAnimationFrame(() => new uPlot({ width: 800, height: 220, scales: { x: { time: true } },
          series: [{}, { label: m, stroke: '#0b5394', width: 2 }] }, [rs.map((r) => r.t / 1000), rs.map((r) => r.value)], plot));
        parts.push(plot);
      }
    }
    return parts;
  }, 'wearables');
}

const METRICS = ['heart_rate', 'spo2', 'steps', 'skin_temperature', 'sleep'];

// The patient's early-warning rules at the custodian: fixed-bound rules added
// and removed here (the CLI also sets baseline rules), and the providers the
// alerts also go to.
export function rulesSection(api) {
  return section(t('rules'), async (reload) => {
    const current = await api.get('/v1/wearables/rules');
    const save = (rules, notify) => api.request('PUT', '/v1/wearables/rules', JSON.stringify({ rules, notify }));
    const describe = (r) => `${r.metric} ${r.above !== undefined ? '> ' + r.above : r.below !== undefined ? '< ' + r.below
      : r.baseline + ' baseline'}${r.for_s ? ` · ${r.for_s / 60} min` : ''}`;
    const rows = current.rules.map((r) => [r.id, describe(r), h('button', { type: 'button', 'data-rule': r.id, onclick: async (ev) => {
      ev.target.disabled = true;
      await save(current.rules.filter((x) => x.id !== r.id), current.notify).then(reload, (e) => ev.target.replaceWith(errorBox(e)));
    } }, t('remove'))]);
    const add = form([field(t('rule_id'), h('input', { name: 'id', required: true, pattern: '[a-z0-9._\\-]{1,32}' })),
      field(t('metric'), h('select', { name: 'metric' }, METRICS.map((m) => h('option', { value: m }, m)))),
      field(t('bound'), h('select', { name: 'side' }, h('option', { value: 'above' }, t('above')), h('option', { value: 'below' }, t('below')))),
      field(t('value'), h('input', { name: 'value', type: 'number', step: 'any', required: true })),
      field(t('for_minutes'), h('input', { name: 'minutes', type: 'number', min: 0, value: 0, required: true }))],
    t('add_rule'), async (d) => {
      const rule = { id: String(d.get('id')), metric: String(d.get('metric')), [String(d.get('side'))]: Number(d.get('value')) };
      const minutes = Number(d.get('minutes'));
      if (minutes > 0) rule.for_s = minutes * 60;
      await save([...current.rules, rule], current.notify);
      reload();
    }, 'add-rule');
    const notify = form([field(t('notify'), h('input', { name: 'notify', value: current.notify.join(', ') }))], t('save'),
      async (d) => {
        await save(current.rules, String(d.get('notify')).split(',').map((x) => x.trim()).filter(Boolean));
        reload();
      }, 'notify');
    return [table([t('rule_id'), t('rule'), ''], rows), add, notify];
  }, 'rules');
}

export function researchSection(api, me) {
  return section(t('research_consents'), async (reload) => {
    const r = await api.get(`/v1/modules/research/patients/${me}/consents`);
    const consents = r.consents ?? [];
    const rows = consents.map((c) => [c.study, (c.categories ?? []).join(', '), formatTime(c.until),
      t(c.status === 'active' ? 'consent_active' : 'consent_revoked'),
      c.status === 'active' ? h('button', { type: 'button', 'data-study': c.study, onclick: async (ev) => {
        ev.target.disabled = true;
        await api.submit('research', 'withdraw', { study: c.study }).catch((e) => ev.target.replaceWith(errorBox(e)));
        reload();
      } }, t('withdraw')) : '']);
    const grant = form([field(t('study'), h('input', { name: 'study', required: true })),
      field(t('metrics'), h('input', { name: 'categories', required: true })),
      field(t('until'), h('input', { type: 'date', name: 'until', required: true }))], t('grant'), async (d) => {
      await api.submit('research', 'consent', {
        study: String(d.get('study')).trim(),
        categories: [...new Set(String(d.get('categories')).split(',').map((s) => s.trim()).filter(Boolean))].sort(),
        until: Date.parse(d.get('until') + 'T23:59:59Z'),
      });
      reload();
    }, 'research-consent');
    return [table([t('study'), t('metrics'), t('until'), t('status'), ''], rows), grant];
  }, 'research');
}

export function erasureSection(api) {
  const done = (what) => (r) => h('p', { class: 'ok' }, `${what}: ${r.documents ?? r.status ?? t('done')}`);
  const out = h('div', { class: 'outcome', role: 'status', 'aria-live': 'polite' });
  const run = (what, target) => async () => out.replaceChildren(done(what)(await api.request('POST', target)));
  return h('section', { id: 'erasure' }, h('h2', {}, t('erasure')), h('p', {}, t('erasure_intro')),
    twoStepButton(t('erase_wearables'), t('really_erase'), run(t('erase_wearables'), '/v1/wearables/erasure?wait=commit'),
      { id: 'erase-wearables' }),
    ' ',
    twoStepButton(t('erase_review_texts'), t('really_erase'), run(t('erase_review_texts'), '/v1/reviews/erasure?wait=commit'),
      { id: 'erase-review-texts' }),
    out);
}
