// End-to-end test of the web portal in Debian's chromium (headless), driven
// by playwright-core against a node that tests/system/test_portal.py started
// and filled. Usage: node portal.mjs <scenario.json>, where the scenario
// names the portal's URL, the demo's key files, a record of patient-anna at
// the node, an attested visit of hers, and the folder for screenshots.
// Exits non-zero, naming the failed step, if any check fails.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { check, labelled, loaded, runScenario, sectionText, short, until } from './lib.mjs';

await runScenario(async (s, signIn) => {
  const weber = s.keys['dr-weber'].public;
  // The patient, in German.
  const anna = await signIn('patient-anna', 'de-DE');
  check((await anna.innerText('#my-role')) === 'patient', 'the patient signs in with her key file');
  await anna.screenshot({ path: `${s.out}/home.png`, fullPage: true });
  const [download] = await Promise.all([anna.waitForEvent('download'), anna.click('#export-key')]);
  check(readFileSync(await download.path(), 'utf8') === s.keys['patient-anna'].file,
    'the key exports as the CLI\'s key file, unchanged');
  await anna.goto(s.url + '#/patient');
  await loaded(anna, 'consents');
  check((await anna.innerText('h1')) === 'Meine Daten', 'German is the language of a German browser');
  await labelled(anna, 'patient page');
  check((await sectionText(anna, 'records')).includes(short(s.record)), 'her record is listed');

  const until30 = new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10);
  await anna.fill('form[name=grant] input[name=grantee]', weber);
  await anna.fill('form[name=grant] input[name=categories]', 'imaging');
  await anna.selectOption('form[name=grant] select[name=purpose]', 'treatment');
  await anna.fill('form[name=grant] input[name=until]', until30);
  await anna.click('form[name=grant] button[type=submit]');
  await until('the consent is granted and listed as active', async () =>
    (await sectionText(anna, 'consents')).includes(short(weber)) && (await anna.locator('section#consents .status-active').count()) === 1);
  await anna.screenshot({ path: `${s.out}/patient.png`, fullPage: true });

  // The provider reads the record under the consent.
  const doctor = await signIn('dr-weber', 'en-GB');
  await doctor.goto(s.url + '#/provider');
  await labelled(doctor, 'provider page');
  const read = async (purpose) => {
    await doctor.fill('form[name=read] input[name=record]', s.record);
    await doctor.selectOption('form[name=read] select[name=purpose]', purpose);
    await doctor.click('form[name=read] button[type=submit]');
    await doctor.waitForSelector('form[name=read] .outcome :is(.ok, .error)');
  };
  await read('treatment');
  check((await doctor.innerText('#record-content')) === s.record_content, 'the provider reads the record under the consent');
  await doctor.screenshot({ path: `${s.out}/provider.png`, fullPage: true });

  // The patient sees the access appear.
  await until("the provider's access appears in the patient's access log", async () => {
    await anna.reload();
    await loaded(anna, 'access-log');
    return (await sectionText(anna, 'access-log')).includes(short(weber));
  });

  // She revokes; the provider is refused, in words.
  await anna.click('section#consents button[data-consent]');
  await until('the consent shows as revoked', async () => (await anna.locator('section#consents .status-revoked').count()) === 1);
  await read('treatment');
  const refusal = await doctor.innerText('form[name=read] .error');
  check(refusal.startsWith('You are not allowed to do this.'), `after the revocation the provider is refused in words ("${refusal}")`);

  // The provider asks again; she grants the request from her page.
  await doctor.fill('form[name=request] input[name=patient]', s.keys['patient-anna'].public);
  await doctor.fill('form[name=request] input[name=categories]', 'imaging');
  await doctor.fill('form[name=request] input[name=reason]', 'Verlaufskontrolle');
  await doctor.click('form[name=request] button[type=submit]');
  const qid = await (await doctor.waitForSelector('#request-id')).innerText();
  await anna.reload();
  await loaded(anna, 'requests');
  check((await sectionText(anna, 'requests')).includes('Verlaufskontrolle'), "the provider's request reaches the patient");
  await anna.fill(`form[name=grant-${qid}] input[name=until]`, until30);
  await anna.click(`form[name=grant-${qid}] button[type=submit]`);
  await until('she grants it from the request', async () => (await sectionText(anna, 'requests')).includes('erlaubt'));
  await read('treatment');
  check((await doctor.innerText('#record-content')) === s.record_content, 'the provider reads under the granted request');

  // Emergency access: allowed, and highlighted in the patient's log.
  await doctor.fill('form[name=emergency] input[name=patient]', s.keys['patient-anna'].public);
  await doctor.fill('form[name=emergency] input[name=reason]', 'Bewusstlos in der Notaufnahme');
  await doctor.click('form[name=emergency] button[type=submit]');
  await doctor.waitForSelector('form[name=emergency] .outcome .ok');
  await read('emergency');
  check((await doctor.innerText('#record-content')) === s.record_content, 'the provider reads under emergency access');
  await until('the emergency access is highlighted in the access log', async () => {
    await anna.reload();
    await loaded(anna, 'access-log');
    return (await anna.locator('section#access-log tr.emergency .badge-emergency').count()) >= 1;
  });
  await anna.locator('section#access-log').screenshot({ path: `${s.out}/access-log.png` });

  // A review of the attested visit earns the reward.
  await loaded(anna, 'visits');
  await anna.selectOption(`form[name=review-${s.visit}] select[name=overall]`, '4');
  await anna.fill(`form[name=review-${s.visit}] textarea[name=text]`, 'Sehr freundlich, kurze Wartezeit.');
  await anna.click(`form[name=review-${s.visit}] button[type=submit]`);
  await until('the review is written', async () => (await sectionText(anna, 'visits')).includes('4/5'));
  await anna.reload();
  await loaded(anna, 'tokens');
  check((await anna.innerText('#token-balance')) === '10', 'the reward shows in her token balance');
  await anna.locator('section#tokens').screenshot({ path: `${s.out}/tokens.png` });
  check(await anna.locator('section#wearables .error').count() === 0, 'the wearables section loads (no device yet)');

  // An early-warning rule, added and removed.
  await loaded(anna, 'rules');
  await anna.fill('form[name=add-rule] input[name=id]', 'tachy');
  await anna.selectOption('form[name=add-rule] select[name=metric]', 'heart_rate');
  await anna.fill('form[name=add-rule] input[name=value]', '100');
  await anna.fill('form[name=add-rule] input[name=minutes]', '10');
  await anna.click('form[name=add-rule] button[type=submit]');
  await until('the rule is stored at the custodian', async () =>
    (await sectionText(anna, 'rules')).includes('heart_rate > 100 · 10 min'));

  // Her watch sends readings that break the rule while the page is open: the
  // alert arrives through the node's alert stream, with no reload.
  await until('the alert stream is open', async () =>
    (await anna.locator('section#wearables .alerts').getAttribute('data-stream')) === 'open');
  check((await anna.locator('section#wearables tr.alert-row').count()) === 0, 'no alert before the readings');
  execFileSync(s.send_readings[0], s.send_readings.slice(1), { stdio: 'pipe' });
  await until('the alert shows on the open page', async () =>
    (await anna.locator('section#wearables tr.alert-row').count()) === 1 &&
    (await sectionText(anna, 'wearables')).includes('heart_rate'));
  await anna.click('section#rules button[data-rule=tachy]');
  await until('and removed', async () => (await anna.locator('section#rules button[data-rule=tachy]').count()) === 0);

  // A correction to the review: new rating and a note, the original kept.
  await anna.click('section#visits summary');
  await anna.selectOption(`form[name=correct-${s.visit}] select[name=overall]`, '3');
  await anna.fill(`form[name=correct-${s.visit}] textarea[name=text]`, 'Nachtrag: Befund kam spät.');
  await anna.click(`form[name=correct-${s.visit}] button[type=submit]`);
  await until('the correction counts', async () => (await sectionText(anna, 'visits')).includes('3/5'));

  // A research consent, granted and withdrawn.
  await anna.fill('form[name=research-consent] input[name=study]', s.study);
  await anna.fill('form[name=research-consent] input[name=categories]', 'heart_rate');
  await anna.fill('form[name=research-consent] input[name=until]', until30);
  await anna.click('form[name=research-consent] button[type=submit]');
  await anna.waitForSelector(`section#research button[data-study="${s.study}"]`);
  await anna.click(`section#research button[data-study="${s.study}"]`);
  await until('the research consent is granted, then withdrawn', async () =>
    (await anna.locator(`section#research button[data-study="${s.study}"]`).count()) === 0 &&
    (await sectionText(anna, 'research')).includes(s.study));

  // The provider's ratings, from chain state, with the verified visit and the text.
  await anna.goto(s.url + '#/reviews');
  await loaded(anna, 'providers');
  check((await sectionText(anna, 'providers')).includes('3.00 / 5'), "the hospital's mean rating follows the correction (3.00)");
  await anna.click('section#providers a');
  await loaded(anna, 'ratings');
  let ratings = await sectionText(anna, 'ratings');
  check(ratings.includes('Sehr freundlich, kurze Wartezeit.') && ratings.includes('bestätigter Besuch') &&
    ratings.includes('Korrektur') && ratings.includes('Nachtrag: Befund kam spät.'),
    `the review shows its text, its verified visit and the correction under it (${ratings})`);
  await anna.screenshot({ path: `${s.out}/reviews.png`, fullPage: true });

  // A record stored from the provider's page, then erased by the patient.
  await doctor.fill('form[name=publish] input[name=patient]', s.keys['patient-anna'].public);
  await doctor.fill('form[name=publish] input[name=category]', 'lab');
  await doctor.fill('form[name=publish] textarea[name=content]', 'HbA1c 5.4 %');
  await doctor.click('form[name=publish] button[type=submit]');
  const published = await (await doctor.waitForSelector('#published-record')).innerText();
  await anna.goto(s.url + '#/patient');
  await loaded(anna, 'records');
  check((await sectionText(anna, 'records')).includes(short(published)), 'the record stored from the provider page is listed');
  await anna.selectOption('section#records select[name=category]', 'lab');
  let listed = await anna.locator('#record-list').innerText();
  check(listed.includes(short(published)) && !listed.includes(short(s.record)), 'filtering by category shows the lab record only');
  await anna.selectOption('section#records select[name=category]', '');
  listed = await anna.locator('#record-list').innerText();
  check(listed.indexOf(short(published)) < listed.indexOf(short(s.record)), 'records are listed newest first');
  await anna.click(`button[data-erase="${published}"]`);
  await anna.click(`button[data-erase="${published}"]`);
  await until('the patient erases it (two clicks)', async () => {
    const row = anna.locator('section#records tr', { hasText: short(published) });
    return (await row.count()) === 1 && (await row.innerText()).includes('gelöscht');
  });

  // Erasure of her review texts: the rating stays, the text is gone.
  await anna.click('#erase-review-texts');
  await anna.click('#erase-review-texts');
  await anna.waitForSelector('section#erasure .outcome .ok');
  await anna.goto(s.url + '#/reviews/st-marien-hospital');
  await loaded(anna, 'ratings');
  ratings = await sectionText(anna, 'ratings');
  check(ratings.includes('Text auf Wunsch des Patienten gelöscht') && !ratings.includes('Sehr freundlich') &&
    !ratings.includes('Nachtrag') && ratings.includes('3.00 / 5'), 'after the erasure the review keeps its rating, its texts are gone');

  await anna.click('nav button:has-text("English")');
  check((await anna.innerText('h1')).startsWith('Reviews'), 'the language switches to English');

  // The explorer, as the auditor: a block, a transaction, its proof checked here.
  const auditor = await signIn('auditor-vogel', 'en-GB');
  await auditor.goto(s.url + '#/explorer');
  await loaded(auditor, 'blocks');
  await loaded(auditor, 'info');
  check((await sectionText(auditor, 'info')).includes('No checkpoints: this node orders alone (solo).'),
    'the explorer says a solo node has no checkpoints');
  await auditor.screenshot({ path: `${s.out}/explorer.png`, fullPage: true });
  await auditor.click('section#blocks tbody tr:first-child a');
  await loaded(auditor, 'block');
  await auditor.click('section#block tbody tr:first-child a');
  await loaded(auditor, 'tx');
  await auditor.click('section#tx button');
  await auditor.waitForSelector('#proof-outcome .verdict');
  check(await auditor.locator('#proof-outcome .verdict.ok').count() === 1,
    `the inclusion proof checks out in the browser (${await auditor.innerText('#proof-outcome')})`);
  await auditor.screenshot({ path: `${s.out}/proof.png`, fullPage: true });

  // Keyboard: the sign-in form is reachable with Tab alone.
  const fresh = await (await anna.context().browser().newContext({ locale: 'en-GB' })).newPage();
  await fresh.goto(s.url + '#/');
  let reached = false;
  for (let i = 0; i < 12 && !reached; i++) {
    await fresh.keyboard.press('Tab');
    reached = await fresh.evaluate(() => document.activeElement?.name === 'paste');
  }
  check(reached, 'the key field is reachable with the keyboard');

});
