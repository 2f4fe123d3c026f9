// German and English texts. German is the default for German browsers
// (the first market: clinics and pharmacies in Germany).
const TEXTS = {
  en: {
    app_title: 'carechain portal',
    nav_home: 'Overview', nav_patient: 'My data', nav_provider: 'Provider', nav_explorer: 'Chain explorer',
    nav_signout: 'Sign out', language: 'Deutsch',
    signin_title: 'Sign in with your key',
    signin_intro: 'Your key stays in this browser: it signs every request and transaction here and is never sent to the node.',
    signin_file: 'Key file (from carechain keygen)', signin_paste: 'Or paste the key file', signin_button: 'Sign in',
    signin_remember: 'Remember the key on this device', signin_new: 'Create a new key', signin_export: 'Save key file',
    key_file_not_json: 'That is not a key file: it is not JSON.',
    key_file_shape: 'That is not an Ed25519 key file of carechain.',
    key_file_mismatch: 'The key file is damaged: its public key does not match its seed.',
    signed_in_as: 'Signed in as', role: 'Role', organisation: 'Organisation', not_registered: 'This key is not registered in the network.',
    loading: 'Loading…', none: 'None yet.', refresh: 'Refresh', done: 'Done.',
    records: 'My records', record: 'Record', category: 'Category', type: 'Type', custodian: 'Custodian', date: 'Date',
    consents: 'My consents', grant: 'Grant access', revoke: 'Revoke', grantee: 'Who (key or organisation)',
    purpose: 'Purpose', until: 'Valid until', categories: 'Categories (comma-separated)', status: 'Status',
    purpose_treatment: 'treatment', purpose_research: 'research', purpose_payment: 'payment', purpose_public_health: 'public health', purpose_emergency: 'emergency',
    consent_active: 'active', consent_revoked: 'revoked', consent_expired: 'expired',
    access_log: 'Who accessed my data', reader: 'Reader', when: 'When', outcome: 'Outcome', allowed: 'allowed', denied: 'denied',
    emergency: 'EMERGENCY ACCESS',
    token: 'My tokens', balance: 'Balance', history: 'History', from: 'From', to: 'To', amount: 'Amount', memo: 'Note',
    visits: 'My visits and reviews', visit: 'Visit', provider: 'Provider', review: 'Review', write_review: 'Write a review',
    overall: 'Overall (1–5)', text: 'Your text (kept encrypted by the review platform)', reviewed: 'reviewed',
    send: 'Send', attest: 'Attest a visit', patient_key: 'Patient key', visit_date: 'Visit date',
    attested: 'Visit attested; give the patient this visit id:',
    emergency_access: 'Emergency access', reason: 'Reason', declare: 'Declare',
    read_record: 'Read a record', record_id: 'Record id', read: 'Read',
    blocks: 'Latest blocks', height: 'Height', txs: 'Transactions', hash: 'Hash', time: 'Time', proposer: 'Proposer',
    transaction: 'Transaction', proof: 'Inclusion proof', check_proof: 'Check the proof here', proof_ok: 'Proof valid: the transaction is in block',
    proof_bad: 'Proof INVALID', result: 'Result',
    err_unreachable: 'The node does not answer. Is it running?',
    err_401: 'The node did not accept your signature. Is this device’s clock right?',
    err_403: 'You are not allowed to do this.',
    err_404: 'Not found.',
    err_409: 'Not possible right now.',
    err_429: 'Too many requests: please wait a moment.',
    err_400: 'The input is not valid.',
    err_tx: 'The network refused the transaction.',
    err_other: 'Something went wrong.',
    wearables: 'My wearables', alerts: 'Alerts', metric: 'Metric', value: 'Value', message: 'Message', device: 'Device',
    readings: 'readings', erased: 'erased', research_consents: 'My research consents', study: 'Study',
    metrics: 'Data (comma-separated: heart_rate, spo2, …)', withdraw: 'Withdraw',
    erasure: 'Erase my data', erasure_intro: 'The custodian destroys the data for good; the chain keeps only the fact. This cannot be undone.',
    erase_wearables: 'Erase my wearable data', erase_review_texts: 'Erase the texts of my reviews', really_erase: 'Really erase? Click again',
    erase_record: 'Erase', nav_reviews: 'Reviews', providers: 'Providers', reviews_count: 'reviews', mean: 'Mean',
    ratings: 'Ratings', verified_visit: '✓ verified visit', vouched: 'patient registered by this provider', correction: 'Correction',
    text_erased: '(text erased at the patient\'s request)', text_missing: '(text not available)', text_mismatch: '(text does not match its hash: not shown)',
    text_elsewhere: '(text kept by another platform)', publish: 'Store a record', resource_type: 'FHIR resource type', content: 'Content',
    published: 'Stored; record id:', arrive: 'Record the arrival', chain: 'Chain', ordering: 'Ordering',
    checkpoint: 'Checkpoint', checkpoint_ok: 'Certified: the signatures check out here', checkpoint_bad: 'NOT certified', no_checkpoints: 'No checkpoints: this node orders alone (solo).',
    requests: 'Requests for access', request_access: 'Request access', requested: 'Request sent; its id:', decline: 'Decline',
    request_granted: 'granted', request_declined: 'declined',
    rules: 'My early-warning rules', rule_id: 'Name', rule: 'Rule', remove: 'Remove', bound: 'Alert when', above: 'above', below: 'below',
    for_minutes: 'For at least (minutes)', add_rule: 'Add rule', notify: 'Also alert these providers (keys, comma-separated)', save: 'Save',
    add_correction: 'Add a correction', all: 'all', review_one: 'review',
    aspect_communication: 'Communication', aspect_treatment: 'Treatment', aspect_waiting_time: 'Waiting time', aspect_facilities: 'Facilities',
    nav_pharmacy: 'Pharmacy', nav_shipment: 'Shipments',
    scan: 'Scan a pack', qr_image: 'Photo or image of the QR code', camera: 'Scan with the camera', pack_code: 'Or type the pack code (GS1)',
    check: 'Check', dispense: 'Dispense', owner: 'Owner', batch: 'Batch', expiry: 'Expiry',
    no_qr: 'No QR code found in this image. Try a sharper, straighter photo.', no_camera: 'The camera is not available.',
    verdict_authentic: '✓ AUTHENTIC', verdict_already_dispensed: '✗ ALARM: ALREADY DISPENSED – do not hand out',
    verdict_recalled: '✗ RECALLED – do not hand out', verdict_expired: '✗ EXPIRED – do not hand out',
    verdict_unknown_product: '✗ UNKNOWN PRODUCT – possible counterfeit', verdict_unknown_serial: '✗ UNKNOWN PACK – possible counterfeit',
    verdict_rejected_in_transport: '✗ REJECTED IN TRANSPORT – do not hand out',
    shipment_id: 'Shipment id', show: 'Show', shipment: 'Shipment', route: 'Route', band: 'Allowed range',
    mkt: 'Mean kinetic temperature', excursions: 'Excursions', curve: 'Temperature curve', logger: 'Logger', peak: 'peak',
    in_transit: 'in transit', arrived: 'arrived', decision_release: 'released', decision_reject: 'rejected',
    releasable: 'Within its limits: may be released.', not_releasable: 'Not releasable', release: 'Release', reject: 'Reject',
  },
  de: {
    app_title: 'carechain-Portal',
    nav_home: 'Übersicht', nav_patient: 'Meine Daten', nav_provider: 'Praxis/Klinik', nav_explorer: 'Chain-Explorer',
    nav_signout: 'Abmelden', language: 'English',
    signin_title: 'Mit Ihrem Schlüssel anmelden',
    signin_intro: 'Ihr Schlüssel bleibt in diesem Browser: Er signiert hier jede Anfrage und Transaktion und wird nie an den Knoten gesendet.',
    signin_file: 'Schlüsseldatei (von carechain keygen)', signin_paste: 'Oder Schlüsseldatei einfügen', signin_button: 'Anmelden',
    signin_remember: 'Schlüssel auf diesem Gerät merken', signin_new: 'Neuen Schlüssel erzeugen', signin_export: 'Schlüsseldatei speichern',
    key_file_not_json: 'Das ist keine Schlüsseldatei: kein JSON.',
    key_file_shape: 'Das ist keine Ed25519-Schlüsseldatei von carechain.',
    key_file_mismatch: 'Die Schlüsseldatei ist beschädigt: Öffentlicher Schlüssel und Seed passen nicht zusammen.',
    signed_in_as: 'Angemeldet als', role: 'Rolle', organisation: 'Organisation', not_registered: 'Dieser Schlüssel ist im Netz nicht registriert.',
    loading: 'Wird geladen …', none: 'Noch keine.', refresh: 'Aktualisieren', done: 'Erledigt.',
    records: 'Meine Befunde', record: 'Befund', category: 'Kategorie', type: 'Typ', custodian: 'Verwahrer', date: 'Datum',
    consents: 'Meine Einwilligungen', grant: 'Zugriff erlauben', revoke: 'Widerrufen', grantee: 'Wer (Schlüssel oder Organisation)',
    purpose: 'Zweck', until: 'Gültig bis', categories: 'Kategorien (durch Komma getrennt)', status: 'Status',
    purpose_treatment: 'Behandlung', purpose_research: 'Forschung', purpose_payment: 'Abrechnung', purpose_public_health: 'Öffentliche Gesundheit', purpose_emergency: 'Notfall',
    consent_active: 'aktiv', consent_revoked: 'widerrufen', consent_expired: 'abgelaufen',
    access_log: 'Wer auf meine Daten zugegriffen hat', reader: 'Leser', when: 'Wann', outcome: 'Ergebnis', allowed: 'erlaubt', denied: 'abgelehnt',
    emergency: 'NOTFALLZUGRIFF',
    token: 'Meine Token', balance: 'Guthaben', history: 'Verlauf', from: 'Von', to: 'An', amount: 'Betrag', memo: 'Notiz',
    visits: 'Meine Besuche und Bewertungen', visit: 'Besuch', provider: 'Leistungserbringer', review: 'Bewertung', write_review: 'Bewertung schreiben',
    overall: 'Gesamt (1–5)', text: 'Ihr Text (verschlüsselt bei der Bewertungsplattform)', reviewed: 'bewertet',
    send: 'Senden', attest: 'Besuch bestätigen', patient_key: 'Schlüssel des Patienten', visit_date: 'Datum des Besuchs',
    attested: 'Besuch bestätigt; geben Sie dem Patienten diese Besuchs-ID:',
    emergency_access: 'Notfallzugriff', reason: 'Grund', declare: 'Erklären',
    read_record: 'Befund lesen', record_id: 'Befund-ID', read: 'Lesen',
    blocks: 'Neueste Blöcke', height: 'Höhe', txs: 'Transaktionen', hash: 'Hash', time: 'Zeit', proposer: 'Vorschlagender Knoten',
    transaction: 'Transaktion', proof: 'Einschlussbeweis', check_proof: 'Beweis hier prüfen', proof_ok: 'Beweis gültig: Die Transaktion steht in Block',
    proof_bad: 'Beweis UNGÜLTIG', result: 'Ergebnis',
    err_unreachable: 'Der Knoten antwortet nicht. Läuft er?',
    err_401: 'Der Knoten hat Ihre Signatur nicht angenommen. Stimmt die Uhr dieses Geräts?',
    err_403: 'Dazu sind Sie nicht berechtigt.',
    err_404: 'Nicht gefunden.',
    err_409: 'Das ist gerade nicht möglich.',
    err_429: 'Zu viele Anfragen: Bitte warten Sie einen Moment.',
    err_400: 'Die Eingabe ist ungültig.',
    err_tx: 'Das Netz hat die Transaktion abgelehnt.',
    err_other: 'Etwas ist schiefgegangen.',
    wearables: 'Meine Wearables', alerts: 'Warnungen', metric: 'Messgröße', value: 'Wert', message: 'Meldung', device: 'Gerät',
    readings: 'Messwerte', erased: 'gelöscht', research_consents: 'Meine Forschungseinwilligungen', study: 'Studie',
    metrics: 'Daten (durch Komma getrennt: heart_rate, spo2, …)', withdraw: 'Zurückziehen',
    erasure: 'Meine Daten löschen', erasure_intro: 'Der Verwahrer vernichtet die Daten endgültig; die Chain behält nur die Tatsache. Das lässt sich nicht rückgängig machen.',
    erase_wearables: 'Meine Wearable-Daten löschen', erase_review_texts: 'Die Texte meiner Bewertungen löschen', really_erase: 'Wirklich löschen? Noch einmal klicken',
    erase_record: 'Löschen', nav_reviews: 'Bewertungen', providers: 'Leistungserbringer', reviews_count: 'Bewertungen', mean: 'Durchschnitt',
    ratings: 'Bewertungen', verified_visit: '✓ bestätigter Besuch', vouched: 'Patient von diesem Leistungserbringer registriert', correction: 'Korrektur',
    text_erased: '(Text auf Wunsch des Patienten gelöscht)', text_missing: '(Text nicht verfügbar)', text_mismatch: '(Text passt nicht zu seinem Hash: nicht angezeigt)',
    text_elsewhere: '(Text bei einer anderen Plattform)', publish: 'Befund ablegen', resource_type: 'FHIR-Ressourcentyp', content: 'Inhalt',
    published: 'Abgelegt; Befund-ID:', arrive: 'Ankunft erfassen', chain: 'Chain', ordering: 'Ordnung',
    checkpoint: 'Checkpoint', checkpoint_ok: 'Zertifiziert: Die Signaturen sind hier geprüft', checkpoint_bad: 'NICHT zertifiziert', no_checkpoints: 'Keine Checkpoints: Dieser Knoten ordnet allein (solo).',
    requests: 'Anfragen auf Zugriff', request_access: 'Zugriff anfragen', requested: 'Anfrage gesendet; ihre ID:', decline: 'Ablehnen',
    request_granted: 'erlaubt', request_declined: 'abgelehnt',
    rules: 'Meine Frühwarnregeln', rule_id: 'Name', rule: 'Regel', remove: 'Entfernen', bound: 'Warnen, wenn', above: 'über', below: 'unter',
    for_minutes: 'Mindestens (Minuten)', add_rule: 'Regel hinzufügen', notify: 'Auch diese Ärzte warnen (Schlüssel, durch Komma getrennt)', save: 'Speichern',
    add_correction: 'Korrektur anfügen', all: 'alle', review_one: 'Bewertung',
    aspect_communication: 'Kommunikation', aspect_treatment: 'Behandlung', aspect_waiting_time: 'Wartezeit', aspect_facilities: 'Ausstattung',
    nav_pharmacy: 'Apotheke', nav_shipment: 'Sendungen',
    scan: 'Packung prüfen', qr_image: 'Foto oder Bild des QR-Codes', camera: 'Mit der Kamera scannen', pack_code: 'Oder Packungscode (GS1) eingeben',
    check: 'Prüfen', dispense: 'Abgeben', owner: 'Eigentümer', batch: 'Charge', expiry: 'Verfall',
    no_qr: 'Kein QR-Code in diesem Bild gefunden. Bitte ein schärferes, geraderes Foto.', no_camera: 'Die Kamera ist nicht verfügbar.',
    verdict_authentic: '✓ ECHT', verdict_already_dispensed: '✗ ALARM: BEREITS ABGEGEBEN – nicht aushändigen',
    verdict_recalled: '✗ ZURÜCKGERUFEN – nicht aushändigen', verdict_expired: '✗ VERFALLEN – nicht aushändigen',
    verdict_unknown_product: '✗ UNBEKANNTES PRODUKT – möglicherweise gefälscht', verdict_unknown_serial: '✗ UNBEKANNTE PACKUNG – möglicherweise gefälscht',
    verdict_rejected_in_transport: '✗ IM TRANSPORT ABGELEHNT – nicht aushändigen',
    shipment_id: 'Sendungs-ID', show: 'Anzeigen', shipment: 'Sendung', route: 'Route', band: 'Zulässiger Bereich',
    mkt: 'Mittlere kinetische Temperatur', excursions: 'Abweichungen', curve: 'Temperaturverlauf', logger: 'Logger', peak: 'Spitze',
    in_transit: 'unterwegs', arrived: 'angekommen', decision_release: 'freigegeben', decision_reject: 'abgelehnt',
    releasable: 'Innerhalb der Grenzen: kann freigegeben werden.', not_releasable: 'Nicht freigebbar', release: 'Freigeben', reject: 'Ablehnen',
  },
};

const stored = localStorage.getItem('carechain.lang');
let lang = stored === 'en' || stored === 'de' ? stored : (navigator.language || 'de').startsWith('en') ? 'en' : 'de';

export const language = () => lang;
export function setLanguage(l) {
  lang = l;
  localStorage.setItem('carechain.lang', l);
  document.documentElement.lang = l;
}
export function t(key) {
  return TEXTS[lang][key] ?? TEXTS.en[key] ?? key;
}
export function formatTime(ms) {
  return new Date(ms).toLocaleString(lang === 'de' ? 'de-DE' : 'en-GB', { timeZone: 'UTC' }) + ' UTC';
}
// An API error in words: a sentence for the kind of failure, then the
// node's own reason (which names the rule).
export function describeError(e) {
  if (e?.status === undefined) return t('err_other') + ' ' + String(e?.message ?? e);
  const head =
    e.status === 0 ? t('err_unreachable')
    : e.status === 200 ? t('err_tx')
    : t('err_' + e.status) !== 'err_' + e.status ? t('err_' + e.status)
    : t('err_other');
  return e.message ? `${head} (${e.message})` : head;
}
