// The pharmacy's scanner: a pack's QR code from the camera or an image,
// decoded in the browser (jsQR), or its code typed; the verdict in large,
// unmistakable form with the pack's history; dispensing.
import jsQR from 'jsqr';
import { formatTime, t } from '../i18n.js';
import { errorBox, field, h } from '../ui.js';

const ALARM = new Set(['already_dispensed', 'recalled', 'expired', 'unknown_product', 'unknown_serial',
  'rejected_in_transport']);

// The text of the first QR code in an image (ImageData), or null.
export function decodeImage(imageData) {
  return jsQR(imageData.data, imageData.width, imageData.height, { inversionAttempts: 'attemptBoth' })?.data ?? null;
}

async function imageFileData(file) {
  const bitmap = await createImageBitmap(file);
  // Small labels are scaled up: jsQR wants a few pixels per module.
  const scale = Math.max(1, Math.ceil(600 / Math.max(bitmap.width, bitmap.height)));
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width * scale;
  canvas.height = bitmap.height * scale;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

export function pharmacyPage(session) {
  const api = session.api;
  const result = h('div', { id: 'scan-result', 'aria-live': 'assertive' });
  const codeInput = h('input', { name: 'code', autocomplete: 'off', spellcheck: 'false' });
  const fileInput = h('input', { type: 'file', name: 'image', accept: 'image/*' });
  const video = h('video', { playsinline: true, muted: true, hidden: true, class: 'camera' });
  let stream = null;

  const stopCamera = () => {
    stream?.getTracks().forEach((tr) => tr.stop());
    stream = null;
    video.hidden = true;
  };

  async function show(code) {
    codeInput.value = code;
    result.replaceChildren(t('loading'));
    try {
      const c = await api.get(`/v1/modules/supply/check?code=${encodeURIComponent(code)}`);
      const alarm = ALARM.has(c.verdict);
      const parts = [h('div', { class: `verdict ${alarm ? 'bad' : 'ok'} verdict-${c.verdict}`, role: alarm ? 'alert' : 'status',
        id: 'verdict' }, t('verdict_' + c.verdict)), h('p', { class: 'mono' }, `GTIN ${c.gtin} · SN ${c.serial}`)];
      if (!c.verdict.startsWith('unknown')) {
        const pack = await api.get(`/v1/modules/supply/packs/${c.gtin}/${encodeURIComponent(c.serial)}`);
        parts.push(h('p', {}, `${t('owner')}: ${pack.owner} · ${t('batch')}: ${pack.batch} · ${t('expiry')}: ${pack.expiry}`));
        parts.push(h('ol', { class: 'history' }, pack.history.map((e) =>
          h('li', {}, `${formatTime(e.at)} · ${e.type} · ${e.from ? e.from + ' → ' + e.to : e.org ?? ''}` +
            `${e.verdict ? ' (' + e.verdict + ')' : ''}${e.alarm ? ' · ALARM ' + e.alarm : ''}`))));
        if (c.verdict === 'authentic') {
          parts.push(h('button', { type: 'button', id: 'dispense', onclick: async (ev) => {
            ev.target.disabled = true;
            try {
              await api.submit('supply', 'dispense', { gtin: c.gtin, serial: c.serial });
              await show(code);
            } catch (e) {
              result.append(errorBox(e));
            }
          } }, t('dispense')));
        }
      }
      result.replaceChildren(...parts);
    } catch (e) {
      result.replaceChildren(errorBox(e));
    }
  }

  fileInput.addEventListener('change', async () => {
    const file = fileInput.files?.[0];
    if (!file) return;
    const text = decodeImage(await imageFileData(file));
    if (text) show(text);
    else result.replaceChildren(h('p', { class: 'error', role: 'alert' }, t('no_qr')));
  });

  const camera = h('button', { type: 'button', onclick: async () => {
    if (stream) return stopCamera();
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    } catch {
      result.replaceChildren(h('p', { class: 'error' }, t('no_camera')));
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const tick = () => {
      if (!stream) return;
      if (video.videoWidth) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        ctx.drawImage(video, 0, 0);
        const text = decodeImage(ctx.getImageData(0, 0, canvas.width, canvas.height));
        if (text) {
          stopCamera();
          show(text);
          return;
        }
      }
      requestAnimationFrame(tick);
    };
    tick();
  } }, t('camera'));

  const typed = h('form', { name: 'code', onsubmit: (ev) => { ev.preventDefault(); if (codeInput.value.trim()) show(codeInput.value.trim()); } },
    field(t('pack_code'), codeInput), h('button', { type: 'submit' }, t('check')));
  return h('div', { class: 'page' }, h('h1', {}, t('nav_pharmacy')),
    h('section', {}, h('h2', {}, t('scan')), field(t('qr_image'), fileInput), camera, video, typed), result);
}
