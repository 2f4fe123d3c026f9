// The portal's shell: sign-in state, navigation and the hash router.
import { Api } from './api.js';
import { Key } from './crypto.js';
import { language, setLanguage, t } from './i18n.js';
import { explorerPage } from './pages/explorer.js';
import { homePage } from './pages/home.js';
import { patientPage } from './pages/patient.js';
import { pharmacyPage } from './pages/pharmacy.js';
import { providerPage } from './pages/provider.js';
import { reviewsPage } from './pages/reviews.js';
import { shipmentPage } from './pages/shipment.js';
import { signinPage } from './pages/signin.js';
import { h } from './ui.js';

const STORE = 'carechain.key';

// The signed-in key: kept for this tab (sessionStorage), or on the device
// when the user asked (localStorage). Nothing else holds it.
export const session = {
  key: null,
  api: null,
  signIn(key, remember) {
    this.key = key;
    this.api = new Api(key);
    (remember ? localStorage : sessionStorage).setItem(STORE, key.toFile());
  },
  signOut() {
    this.key = this.api = null;
    localStorage.removeItem(STORE);
    sessionStorage.removeItem(STORE);
  },
  restore() {
    const text = sessionStorage.getItem(STORE) ?? localStorage.getItem(STORE);
    if (!text) return;
    try {
      const key = Key.fromFile(text);
      this.key = key;
      this.api = new Api(key);
    } catch {
      this.signOut();
    }
  },
};

const ROUTES = {
  '': homePage,
  patient: patientPage,
  provider: providerPage,
  reviews: reviewsPage,
  pharmacy: pharmacyPage,
  shipment: shipmentPage,
  explorer: explorerPage,
};

function nav() {
  const link = (href, label) => h('a', { href, 'aria-current': location.hash === href ? 'page' : null }, label);
  return h(
    'nav',
    { 'aria-label': 'main' },
    h('strong', { class: 'brand' }, t('app_title')),
    session.key ? [link('#/', t('nav_home')), link('#/patient', t('nav_patient')), link('#/provider', t('nav_provider')),
      link('#/reviews', t('nav_reviews')), link('#/pharmacy', t('nav_pharmacy')), link('#/shipment', t('nav_shipment')), link('#/explorer', t('nav_explorer'))] : [],
    h('span', { class: 'spacer' }),
    h('button', { type: 'button', class: 'link', onclick: () => { setLanguage(language() === 'de' ? 'en' : 'de'); render(); } },
      t('language')),
    session.key ? h('button', { type: 'button', class: 'link', onclick: () => { session.signOut(); location.hash = '#/'; render(); } },
      t('nav_signout')) : null,
  );
}

export function render() {
  document.documentElement.lang = language();
  document.title = t('app_title');
  document.getElementById('top').replaceChildren(nav());
  const [route, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const page = session.key ? (ROUTES[route] ?? homePage) : signinPage;
  const main = document.getElementById('main');
  main.replaceChildren(page(session, rest, render));
}

session.restore();
window.addEventListener('hashchange', render);
render();
