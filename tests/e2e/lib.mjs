// Shared by the browser tests: Debian's chromium through playwright-core,
// sign-in with a key file, checks that print what they saw.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const TIMEOUT = 30000;
export const short = (hex) => hex.slice(0, 8) + '…' + hex.slice(-6);

export function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  console.log('ok  ' + what);
}

// Polls `probe` (which may reload the page) until it returns true.
export async function until(what, probe) {
  const deadline = Date.now() + TIMEOUT;
  while (Date.now() < deadline) {
    if (await probe()) return console.log('ok  ' + what);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('timed out: ' + what);
}

// Headless chromium, loopback only: no background connections to Google's hosts.
export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

// A new browser context signed in as `name` (its key file from the scenario);
// script errors are collected in `errors`.
export async function signIn(browser, scenario, name, locale, errors) {
  const context = await browser.newContext({ locale, viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && !/status of 4\d\d/.test(m.text()) && errors.push(`${name}: ${m.text()}`));
  await page.goto(scenario.url + '#/');
  await page.fill('form[name=signin] textarea[name=paste]', scenario.keys[name].file);
  await page.click('form[name=signin] button[type=submit]');
  await page.waitForSelector('#my-role');
  return page;
}

// Every form control of the page's main part has a label (a screen reader names it).
export async function labelled(page, what) {
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('main input, main select, main textarea')]
    .filter((el) => !el.id || !document.querySelector(`label[for="${el.id}"]`)).length);
  check(unlabelled === 0, `${what}: every form control has a label`);
}

export const loaded = (page, id) => page.waitForSelector(`section#${id}[aria-busy=false]`);
export const sectionText = (page, id) => page.locator(`section#${id}`).innerText();

// Runs a browser test: `body(s, signIn)` with the scenario file named on the
// command line and a signIn(name, locale) that opens a signed-in page. Fails
// (exit code 1, the failed step on stderr, a screenshot of every open page in
// s.out) if a check fails, a step times out or a page logged a script error.
export async function runScenario(body) {
  const s = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  mkdirSync(s.out, { recursive: true });
  for (const f of readdirSync(s.out)) if (f.startsWith('failed-')) rmSync(`${s.out}/${f}`);  // an earlier run's
  const browser = await launch();
  const errors = [];
  const opened = [];
  const open = async (name, locale) => {
    const page = await signIn(browser, s, name, locale, errors);
    opened.push([name, page]);
    return page;
  };
  try {
    await body(s, open, errors);
    check(errors.length === 0, `no script errors (${errors.join('; ')})`);
  } catch (e) {
    console.error(e.message);
    process.exitCode = 1;
    for (const [name, page] of opened) {
      await page.screenshot({ path: `${s.out}/failed-${name}.png`, fullPage: true }).catch(() => {});
    }
  } finally {
    await browser.close();
  }
}
