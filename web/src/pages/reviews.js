// Verified reviews of providers: each provider's ratings from chain state,
// and its reviews with their texts (checked by the platform against the
// chain), corrections shown with the original.
import { formatTime, t } from '../i18n.js';
import { h, section, table } from '../ui.js';

const stars = (n) => '★'.repeat(n) + '☆'.repeat(5 - n);

export function reviewsPage(session, rest) {
  const api = session.api;
  const org = rest[0];
  if (!org) {
    return h('div', { class: 'page' }, h('h1', {}, t('nav_reviews')), section(t('providers'), async () => {
      const { providers } = await api.get('/v1/modules/reviews/providers');
      return table([t('provider'), t('reviews_count'), t('mean'), ''], providers.map((p) => [
        h('a', { href: `#/reviews/${p.provider}` }, p.provider), String(p.reviews), `${p.overall.mean.toFixed(2)} / 5`,
        stars(Math.round(p.overall.mean))]));
    }, 'providers'));
  }
  return h('div', { class: 'page' }, h('h1', {}, `${t('nav_reviews')}: ${org}`), section(t('ratings'), async () => {
    const r = await api.get(`/v1/modules/reviews/providers/${org}/reviews?limit=50`);
    const dist = h('table', { class: 'dist' }, h('tbody', {}, [5, 4, 3, 2, 1].map((n) =>
      h('tr', {}, h('th', { scope: 'row' }, stars(n)), h('td', {}, String(r.overall.distribution[n]))))));
    const cards = [];
    for (const rv of r.page) {
      const texts = rv.text || rv.corrections.some((c) => c.text) ? await api.get(`/v1/reviews/${rv.review}/texts`) : null;
      const words = (x) => (x?.status === 'ok' ? h('blockquote', {}, x.text) : x ? h('p', { class: 'muted' }, t('text_' + x.status)) : null);
      cards.push(h('article', { class: 'card review' },
        h('p', {}, h('strong', {}, stars(rv.ratings.overall)), ' · ', h('span', { class: 'badge-verified' }, t('verified_visit')),
          ` ${rv.verified_visit.date}`, rv.vouched_by_provider ? ` · ${t('vouched')}` : ''),
        words(texts?.text),
        rv.corrections.map((c, i) => h('div', { class: 'correction' }, h('p', {}, `${t('correction')} ${formatTime(c.at)}`
          + (c.ratings ? ` · ${stars(c.ratings.overall)}` : '')), words(texts?.corrections?.[i])))));
    }
    const aspects = Object.entries(r.aspects).filter(([, a]) => a.count > 0);
    return [h('p', { class: 'big' }, `${r.overall.mean.toFixed(2)} / 5 · ${r.reviews} ${t(r.reviews === 1 ? 'review_one' : 'reviews_count')}`),
      dist, aspects.length ? h('ul', { class: 'aspects' }, aspects.map(([name, a]) =>
        h('li', {}, `${t('aspect_' + name) !== 'aspect_' + name ? t('aspect_' + name) : name}: ${a.mean.toFixed(2)} (${a.count})`))) : null,
      cards];
  }, 'ratings'));
}
