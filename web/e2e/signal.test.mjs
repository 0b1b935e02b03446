// The projection signal through the real Amplify v6 client in two signed-in pages: alice subscribes to
// her own onListingProjected before she writes, creates and edits a listing, and her page says
// "indexing…" then "searchable after N ms" from the signal and shows the listing in its refreshed search
// results; bob, meanwhile, sees both changes arrive live (onListingChanged).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fillListing, launch, screenshot, signedInPage } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const FORM = { description: 'Written by the projection-signal browser test.', place: { city: 'Nantes', lat: '47.22', lon: '-1.55' } };

/** The banner's states in order, recorded in the page from before the write. */
async function recordBanner(page) {
  await page.evaluate(() => {
    window.bannerStates = [];
    const banner = document.getElementById('sync');
    new MutationObserver(() => window.bannerStates.push(`${banner.dataset.state}:${banner.dataset.via ?? ''}`)).observe(
      banner,
      { attributes: true, childList: true, characterData: true, subtree: true },
    );
  });
}

test('the writer sees its projection signal, then the listing in search; the other user sees it live', async () => {
  const title = `Signal room ${randomUUID().slice(0, 8)}`;
  const [alice, bob] = [await signedInPage(browser, 'alice'), await signedInPage(browser, 'bob')];
  // Subscribed before the write (AppSync acknowledged it), so the signal cannot be missed.
  await alice.waitForSelector('body[data-signal="on"]', { timeout: 15_000 });
  // Alice searches for the title first: nothing yet; the signal refreshes these results.
  await alice.fill('#q', title);
  await alice.click('#search-form button[type=submit]');

  await recordBanner(alice);
  await fillListing(alice, { ...FORM, title, price: 610 });
  await alice.click('#save');
  await alice.waitForSelector('#sync[data-state="caught-up"][data-via="signal"]', { timeout: 15_000 });
  assert.match(await alice.locator('#sync').innerText(), /searchable after \d+ ms \(projection signal\)/);
  const states = await alice.evaluate(() => window.bannerStates);
  assert.ok(states.includes('indexing:'), `"indexing…" must show before the signal: ${states}`);
  const card = alice.locator('li[data-id]', { hasText: title });
  await card.first().waitFor({ timeout: 5_000 }); // the results were refreshed when the signal came
  const id = await card.first().getAttribute('data-id');
  await screenshot(alice, 'signal-01-searchable-after');

  const created = bob.locator(`#live-feed li[data-listing="${id}"]`);
  await created.first().waitFor({ timeout: 10_000 });
  assert.match(await created.first().innerText(), /by another user/);

  // An edit: the signal must cover the new version (not the create's), and bob sees the edit live.
  await alice.click(`li[data-id="${id}"] button.edit`);
  await alice.waitForSelector('#editing:not([hidden])');
  await alice.fill('#listing-form [name=title]', `${title} (renovated)`);
  await alice.click('#save');
  await alice.waitForSelector('#form-message[data-kind="ok"]');
  const saved = (await alice.locator('#form-message').innerText()).match(/Saved version (\d+)/)[1];
  await alice.waitForSelector(`#sync[data-state="caught-up"][data-via="signal"][data-version="${saved}"]`, {
    timeout: 15_000,
  });
  await alice.locator('li[data-id]', { hasText: 'renovated' }).first().waitFor({ timeout: 5_000 });
  const edited = bob.locator(`#live-feed li[data-listing="${id}"]`, { hasText: 'renovated' });
  await edited.first().waitFor({ timeout: 10_000 });
  await screenshot(bob, 'signal-02-other-user-sees-the-edit');
  assert.deepEqual(browser.errors, []);
  await alice.close();
  await bob.close();
});
