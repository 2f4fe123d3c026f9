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

export function wearablesSection(api, me) {
  return section(t('wearables'), async () => {
    const { devices } = await api.get(`/v1/modules/wearables/patients/${me}/devices`);
    const { alerts } = await api.get('/v1/wearables/alerts?limit=50');
    const parts = [h('h3', {}, t('alerts')), table([t('when'), t('metric'), t('value'), t('message')],
      alerts.map((a) => [formatTime(a.at), a.metric, String(a.value), a.message]), () => ({ class: 'alert-row' }))];
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
  const run = (what, target) => async () => out.replaceChildren(done(what)(await api.post(target, {})));
  return h('section', { id: 'erasure' }, h('h2', {}, t('erasure')), h('p', {}, t('erasure_intro')),
    twoStepButton(t('erase_wearables'), t('really_erase'), run(t('erase_wearables'), '/v1/wearables/erasure?wait=commit'),
      { id: 'erase-wearables' }),
    ' ',
    twoStepButton(t('erase_review_texts'), t('really_erase'), run(t('erase_review_texts'), '/v1/reviews/erasure?wait=commit'),
      { id: 'erase-review-texts' }),
    out);
}
