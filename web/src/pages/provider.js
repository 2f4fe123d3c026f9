// The provider's page: attest visits, read records under a consent,
// declare emergency access.
import { t } from '../i18n.js';
import { field, form, h } from '../ui.js';

export function providerPage(session) {
  const api = session.api;
  const today = new Date().toISOString().slice(0, 10);

  const attest = form([field(t('patient_key'), h('input', { name: 'patient', required: true, pattern: '[0-9a-f]{64}' })),
    field(t('visit_date'), h('input', { type: 'date', name: 'date', value: today, required: true }))], t('attest'),
  async (d) => {
    const status = await api.submit('reviews', 'attest', { patient: String(d.get('patient')), date: String(d.get('date')) });
    return [t('attested') + ' ', h('strong', { class: 'mono', id: 'visit-id' }, status.id.slice(0, 32))];
  }, 'attest');

  const content = h('pre', { class: 'content', id: 'record-content' });
  const read = form([field(t('record_id'), h('input', { name: 'record', required: true, pattern: '[0-9a-f]{32}' })),
    field(t('purpose'), h('select', { name: 'purpose' }, ['treatment', 'research', 'payment', 'public_health', 'emergency']
      .map((p) => h('option', { value: p }, p === 'emergency' ? t('emergency_access') : t('purpose_' + p)))))],
  t('read'), async (d) => {
    content.textContent = '';
    const text = await api.get(`/v1/records/${d.get('record')}/content?purpose=${d.get('purpose')}`);
    content.textContent = typeof text === 'string' ? text : JSON.stringify(text, null, 2);
  }, 'read');

  const request = form([field(t('patient_key'), h('input', { name: 'patient', required: true, pattern: '[0-9a-f]{64}' })),
    field(t('categories'), h('input', { name: 'categories', required: true })),
    field(t('purpose'), h('select', { name: 'purpose' }, ['treatment', 'research', 'payment', 'public_health']
      .map((p) => h('option', { value: p }, t('purpose_' + p))))),
    field(t('reason'), h('input', { name: 'reason', required: true, maxlength: 200 }))], t('request_access'), async (d) => {
    const status = await api.submit('records', 'request_access', {
      patient: String(d.get('patient')),
      categories: String(d.get('categories')).split(',').map((x) => x.trim()).filter(Boolean),
      purpose: String(d.get('purpose')),
      reason: String(d.get('reason')),
    });
    return [t('requested') + ' ', h('strong', { class: 'mono', id: 'request-id' }, status.id.slice(0, 32))];
  }, 'request');

  const emergency = form([field(t('patient_key'), h('input', { name: 'patient', required: true, pattern: '[0-9a-f]{64}' })),
    field(t('reason'), h('input', { name: 'reason', required: true, maxlength: 200 }))], t('declare'), async (d) => {
    await api.submit('records', 'emergency_access', { patient: String(d.get('patient')), reason: String(d.get('reason')) });
  }, 'emergency');

  const publish = form([field(t('patient_key'), h('input', { name: 'patient', required: true, pattern: '[0-9a-f]{64}' })),
    field(t('resource_type'), h('input', { name: 'resource_type', required: true, value: 'DiagnosticReport' })),
    field(t('category'), h('input', { name: 'category', required: true })),
    field(t('content'), h('textarea', { name: 'content', required: true, rows: 4 }))], t('publish'), async (d) => {
    const r = await api.post('/v1/records?wait=commit', { patient: String(d.get('patient')), resource_type: String(d.get('resource_type')),
      category: String(d.get('category')), media_type: 'text/plain; charset=utf-8', content: String(d.get('content')) });
    return [t('published') + ' ', h('strong', { class: 'mono', id: 'published-record' }, r.record)];
  }, 'publish');

  return h('div', { class: 'page' }, h('h1', {}, t('nav_provider')),
    h('section', {}, h('h2', {}, t('publish')), publish),
    h('section', {}, h('h2', {}, t('attest')), attest),
    h('section', {}, h('h2', {}, t('request_access')), request),
    h('section', {}, h('h2', {}, t('read_record')), read, content),
    h('section', {}, h('h2', {}, t('emergency_access')), emergency));
}
