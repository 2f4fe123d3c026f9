// A shipment's temperature curve against its allowed band (uPlot): the band
// drawn, excursions shaded, the mean kinetic temperature shown; release or
// reject by the receiver.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatTime, t } from '../i18n.js';
import { errorBox, field, form, h, section, short } from '../ui.js';

const C = (centi) => (centi / 100).toFixed(2) + ' °C';

// Draws the allowed band and shades every excursion (from, to) behind the series.
function bandPlugin(low, high, excursions) {
  return {
    hooks: {
      drawClear: (u) => {
        const { ctx, bbox } = u;
        const y1 = u.valToPos(high, 'y', true), y0 = u.valToPos(low, 'y', true);
        ctx.save();
        ctx.fillStyle = 'rgba(10, 107, 45, 0.12)';
        ctx.fillRect(bbox.left, y1, bbox.width, y0 - y1);
        ctx.fillStyle = 'rgba(163, 0, 0, 0.25)';
        for (const ex of excursions) {
          const x0 = u.valToPos(ex.from / 1000, 'x', true), x1 = u.valToPos((ex.to ?? ex.from) / 1000, 'x', true);
          ctx.fillRect(x0, bbox.top, Math.max(2, x1 - x0), bbox.height);
        }
        ctx.restore();
      },
    },
  };
}

export function shipmentPage(session, rest) {
  const api = session.api;
  const id = rest[0];
  const pick = form([field(t('shipment_id'), h('input', { name: 'id', required: true, pattern: '[0-9a-f]{16}', value: id ?? '' }))],
    t('show'), async (d) => { location.hash = `#/shipment/${d.get('id')}`; }, 'pick');
  if (!id) return h('div', { class: 'page' }, h('h1', {}, t('nav_shipment')), pick);
  const view = section(`${t('shipment')} ${id}`, async (reload) => {
    const s = await api.get(`/v1/coldchain/shipments/${id}/curve`);
    const excursions = s.loggers.flatMap((l) => l.excursions ?? []);
    const mkt = s.loggers.map((l) => l.mkt).filter((x) => x !== undefined);
    const facts = h('dl', {}, [[t('route'), s.route], [t('band'), `${C(s.low)} … ${C(s.high)}`],
      [t('mkt'), mkt.length ? mkt.map(C).join(', ') : '–'], [t('excursions'), String(excursions.length)],
      [t('status'), s.decision ? t('decision_' + s.decision.decision) : s.arrived_at ? t('arrived') : t('in_transit')]]
      .map(([k, v]) => [h('dt', {}, k), h('dd', { id: 'ship-' + k.replace(/\W+/g, '-').toLowerCase() }, v)]));
    const plot = h('div', { class: 'plot', id: 'curve', role: 'img',
      'aria-label': `${t('curve')}: ${t('band')} ${C(s.low)} … ${C(s.high)}, ${excursions.length} ${t('excursions')}` });
    const xs = [...new Set(s.loggers.flatMap((l) => l.points.map((p) => p[0])))].sort((a, b) => a - b);
    const data = [xs.map((x) => x / 1000), ...s.loggers.map((l) => {
      const at = new Map(l.points.map(([x, c]) => [x, c / 100]));
      return xs.map((x) => at.get(x) ?? null);
    })];
    const opts = {
      width: 900, height: 360, plugins: [bandPlugin(s.low / 100, s.high / 100, excursions)],
      scales: { x: { time: true }, y: { range: (u, lo, hi) => [Math.min(lo, s.low / 100) - 1, Math.max(hi, s.high / 100) + 1] } },
      series: [{}, ...s.loggers.map((l, i) => ({ label: `${t('logger')} ${short(l.device)}`, stroke: ['#0b5394', '#7a3e00', '#5b2a86'][i % 3],
        width: 2, spanGaps: true }))],
      axes: [{}, { label: '°C' }],
    };
    requestAnimationFrame(() => new uPlot(opts, data, plot));
    const parts = [facts, plot, h('ul', {}, excursions.map((e) =>
      h('li', {}, `${formatTime(e.from)} – ${e.to ? formatTime(e.to) : '…'} · ${t('peak')} ${C(e.peak)}`)))];
    if (s.assessment) parts.push(h('p', {}, s.assessment.releasable ? t('releasable') : `${t('not_releasable')}: ${s.assessment.reasons.join('; ')}`));
    if (!s.arrived_at) {
      parts.push(h('button', { type: 'button', id: 'arrive', onclick: async (ev) => {
        ev.target.disabled = true;
        await api.submit('coldchain', 'arrive', { shipment: id }).then(reload, (e) => ev.target.replaceWith(errorBox(e)));
      } }, t('arrive')));
    }
    if (!s.decision) {
      const decide = (decision) => async (d) => {
        await api.submit('coldchain', 'decide', { shipment: id, decision, reason: String(d.get('reason')) });
        reload();
      };
      parts.push(form([field(t('reason'), h('input', { name: 'reason', required: true, maxlength: 200 }))], t('release'), decide('release'), 'release'),
        form([field(t('reason'), h('input', { name: 'reason', required: true, maxlength: 200 }))], t('reject'), decide('reject'), 'reject'));
    }
    return parts;
  }, 'shipment');
  return h('div', { class: 'page' }, h('h1', {}, t('nav_shipment')), pick, view);
}
