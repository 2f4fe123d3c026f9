// Who is signed in: the key's actor record (role, organisation).
import { t } from '../i18n.js';
import { h, section } from '../ui.js';

export const ROLE_PAGE = { patient: '#/patient', provider: '#/provider', pharmacist: '#/pharmacy', wholesaler: '#/pharmacy',
  manufacturer: '#/pharmacy', carrier: '#/shipment', auditor: '#/explorer', admin: '#/explorer', regulator: '#/explorer' };
const PAGE_LABEL = { '#/patient': 'nav_patient', '#/provider': 'nav_provider', '#/pharmacy': 'nav_pharmacy',
  '#/shipment': 'nav_shipment', '#/explorer': 'nav_explorer' };

export function homePage(session) {
  return h('div', { class: 'page' }, h('h1', {}, t('nav_home')),
    section(t('signed_in_as'), async () => {
      const me = session.key.publicHex;
      let actor;
      try {
        actor = await session.api.get(`/v1/modules/identity/actors/${me}`);
      } catch (e) {
        if (e.status === 404 || e.status === 403) return h('p', { class: 'error' }, t('not_registered'));
        throw e;
      }
      const page = ROLE_PAGE[actor.role];
      const save = h('a', { href: URL.createObjectURL(new Blob([session.key.toFile()], { type: 'application/json' })),
        download: `${me.slice(0, 8)}.key`, id: 'export-key' }, t('signin_export'));
      return [h('dl', {}, h('dt', {}, t('signed_in_as')), h('dd', { class: 'mono', id: 'my-key' }, me),
        h('dt', {}, t('role')), h('dd', { id: 'my-role' }, actor.role),
        h('dt', {}, t('organisation')), h('dd', {}, actor.org)),
        page ? h('p', {}, h('a', { href: page, class: 'button' }, t(PAGE_LABEL[page]))) : null, h('p', {}, save)];
    }));
}
