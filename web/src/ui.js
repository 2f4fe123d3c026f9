// A few DOM helpers: pages are plain functions that build elements.
import { describeError, t } from './i18n.js';

// h('p', {class: 'x', onclick: f}, 'text', child, ...)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A section with a heading whose body `load` fills (async); errors show in words.
export function section(title, load, id) {
  const body = h('div', { class: 'body' }, t('loading'));
  const el = h('section', { id, 'aria-busy': 'true' }, h('h2', {}, title), body);
  const reload = async () => {
    el.setAttribute('aria-busy', 'true');
    try {
      const content = await load(reload);
      body.replaceChildren(...[content].flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
    } catch (e) {
      body.replaceChildren(errorBox(e));
    }
    el.setAttribute('aria-busy', 'false');
  };
  reload();
  return el;
}

export function errorBox(e) {
  return h('p', { class: 'error', role: 'alert' }, describeError(e));
}

export function table(headers, rows, rowAttrs = () => ({})) {
  if (!rows.length) return h('p', { class: 'muted' }, t('none'));
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.map((r, i) => h('tr', rowAttrs(r, i), r.map((c) => h('td', {}, c))))),
  );
}

// A labelled input: every field has a visible label.
export function field(label, input) {
  const id = 'f-' + Math.random().toString(36).slice(2);
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input);
}

// A form whose submit runs `action` (async) and shows its outcome in words.
export function form(fields, submitLabel, action, name) {
  const out = h('div', { class: 'outcome', role: 'status', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit' }, submitLabel);
  const el = h('form', { name }, fields, button, out);
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    out.replaceChildren(t('loading'));
    try {
      const done = await action(new FormData(el));
      out.replaceChildren(h('p', { class: 'ok' }, done ?? t('done')));
    } catch (e) {
      out.replaceChildren(errorBox(e));
    }
    button.disabled = false;
  });
  return el;
}

export const short = (hex) => (hex && hex.length > 16 ? hex.slice(0, 8) + '…' + hex.slice(-6) : hex);
