// Debian's Chromium driven by playwright-core (test tools' own browser downloads cannot work here).
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const PAGE_URL = process.env.PAGE_URL ?? 'http://127.0.0.1:4173/';
export const ARTIFACTS = process.env.ARTIFACTS ?? join(process.cwd(), '..', 'test-artifacts', 'web');

// No background networking: this machine's network is closed and Chromium's own calls would only fail.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// A local stack serves https with a certificate from its own CA: trust exactly that server key (the
// stack's `tls_spki_sha256`), not every certificate. Chromium honours the flag with a user data dir,
// which launchPersistentContext gives it.
if (process.env.TLS_SPKI_SHA256) FLAGS.push(`--ignore-certificate-errors-spki-list=${process.env.TLS_SPKI_SHA256}`);

/** Starts Chromium with a fresh profile; `close()` stops it and removes the profile. */
export async function launch() {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    viewport: { width: 1360, height: 900 },
  });
  const errors = [];
  context.on('weberror', (error) => errors.push(String(error.error())));
  return {
    context,
    errors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot under test-artifacts/web/. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** A page of the app signed in as `user`, with its live connection open. */
export async function signedInPage(browser, user) {
  const page = await browser.context.newPage();
  await page.goto(PAGE_URL);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
  await page.selectOption('#signin-user', user);
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#signedin:not([hidden])');
  await page.waitForSelector('body[data-live="on"]', { timeout: 15_000 });
  return page;
}

/** Fills the listing form with a ROOM in EUR; `place` is { city, lat, lon }. */
export async function fillListing(page, { title, price, description, place }) {
  await page.fill('#listing-form [name=title]', title);
  await page.fill('#listing-form [name=description]', description);
  await page.selectOption('#listing-form [name=category]', 'ROOM');
  await page.fill('#listing-form [name=price]', String(price));
  await page.fill('#listing-form [name=currency]', 'EUR');
  await page.fill('#listing-form [name=city]', place.city);
  await page.fill('#listing-form [name=lat]', place.lat);
  await page.fill('#listing-form [name=lon]', place.lon);
}
