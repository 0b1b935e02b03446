// Fault injection: the projector is stopped (by the pytest wrapper), so search cannot catch up with a
// write. The page must say so after its catch-up timeout instead of showing stale results without a word.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PAGE_URL, launch, screenshot } from './browser.mjs';

const TITLE = process.env.LAG_TITLE ?? 'Lagging listing';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('a write that search does not show in time is reported, not hidden', async () => {
  const page = await browser.context.newPage();
  const config = await (await fetch(new URL('config.json', PAGE_URL))).json();
  await page.route('**/config.json', (route) =>
    route.fulfill({ contentType: 'application/json', body: JSON.stringify({ ...config, search_catch_up_s: 3 }) }),
  );
  await page.goto(PAGE_URL);
  await page.waitForSelector('body[data-ready="true"]');
  await page.selectOption('#signin-user', 'alice');
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#signedin:not([hidden])');

  const form = '#listing-form';
  await page.fill(`${form} [name=title]`, TITLE);
  await page.selectOption(`${form} [name=category]`, 'ROOM');
  await page.fill(`${form} [name=price]`, '450');
  await page.fill(`${form} [name=currency]`, 'EUR');
  await page.fill(`${form} [name=city]`, 'Paris');
  await page.fill(`${form} [name=lat]`, '48.8566');
  await page.fill(`${form} [name=lon]`, '2.3522');
  await page.click('#save');
  await page.locator('#form-message[data-kind="ok"]').waitFor();
  // "indexing" while it waits for the projection signal (if subscribed in time), "pending" while it polls.
  assert.ok(['indexing', 'pending'].includes(await page.getAttribute('#sync', 'data-state')));

  await page.waitForSelector('#sync[data-state="lagging"]', { timeout: 20_000 });
  assert.match(await page.locator('#sync').innerText(), /still does not show .* results may be stale/);
  // The banner tells the truth: the write is stored (consistent read) but not searchable yet.
  await page.fill('#q', TITLE);
  await page.click('#search-form button[type=submit]');
  await page.waitForFunction(() => !document.querySelector('#search-form')?.hasAttribute('aria-busy'));
  assert.equal(await page.locator('#results li').count(), 0);
  await screenshot(page, 'search-lagging');
  await page.close();
});
