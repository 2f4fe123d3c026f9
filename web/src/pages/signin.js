// Sign-in: the user's key file, read in the browser; or a new key, saved as
// a key file the CLI reads too.
import { Key } from '../crypto.js';
import { t } from '../i18n.js';
import { field, form, h } from '../ui.js';

export function signinPage(session, _rest, render) {
  const file = h('input', { type: 'file', name: 'file', accept: '.key,application/json' });
  const paste = h('textarea', { name: 'paste', rows: 4, spellcheck: 'false' });
  const remember = h('input', { type: 'checkbox', name: 'remember' });
  const signin = form(
    [field(t('signin_file'), file), field(t('signin_paste'), paste),
      h('div', { class: 'check' }, remember, h('label', {}, t('signin_remember')))],
    t('signin_button'),
    async (data) => {
      const f = data.get('file');
      const text = f && f.size ? await f.text() : String(data.get('paste') ?? '');
      let key;
      try {
        key = Key.fromFile(text);
      } catch (e) {
        throw new Error(t(e.message));
      }
      session.signIn(key, remember.checked);
      location.hash = '#/';
      render();
    },
    'signin',
  );
  remember.id = 'remember';
  remember.nextSibling.setAttribute('for', 'remember');
  const fresh = h('button', { type: 'button', onclick: () => {
    const key = Key.generate();
    const a = h('a', { href: URL.createObjectURL(new Blob([key.toFile()], { type: 'application/json' })),
      download: key.publicHex.slice(0, 8) + '.key' }, t('signin_export'));
    out.replaceChildren(h('p', {}, key.publicHex), a);
    paste.value = key.toFile();
  } }, t('signin_new'));
  const out = h('div', { class: 'outcome' });
  return h('div', { class: 'page' }, h('h1', {}, t('signin_title')), h('p', {}, t('signin_intro')), signin,
    h('section', {}, fresh, out));
}
