// Live updates through the real Amplify v6 client in two pages: bob sees alice's new listing and her
// edit arrive over AppSync's WebSocket (onListingChanged), without searching or reloading.
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

const FORM = { description: 'Written by the live-updates browser test.', place: { city: 'Lyon', lat: '45.76', lon: '4.83' } };

test("another user's create and edit appear live", async () => {
  const title = `Live room ${randomUUID().slice(0, 8)}`;
  const [alice, bob] = [await signedInPage(browser, 'alice'), await signedInPage(browser, 'bob')];

  await fillListing(alice, { ...FORM, title, price: 480 });
  await alice.click('#save');
  await alice.waitForSelector('#form-message[data-kind="ok"]');
  const created = bob.locator('#live-feed li', { hasText: title });
  await created.waitFor({ timeout: 10_000 });
  assert.match(await created.first().innerText(), /by another user/);
  const id = await created.first().getAttribute('data-listing');
  const version = await created.first().getAttribute('data-listing-version');
  // Alice's own page lists her change too, as hers.
  assert.match(await alice.locator(`#live-feed li[data-listing="${id}"]`).first().innerText(), /by you/);

  // Alice edits it (from search, once it is there); bob's feed shows the new title at a higher version.
  await alice.waitForSelector('#sync[data-state="caught-up"]', { timeout: 30_000 });
  await alice.fill('#q', title);
  await alice.click('#search-form button[type=submit]');
  await alice.click(`li[data-id="${id}"] button.edit`);
  await alice.waitForSelector(`#editing[data-version="${version}"]`);
  await alice.fill('#listing-form [name=title]', `${title} (renovated)`);
  await alice.click('#save');
  const edited = bob.locator(`#live-feed li[data-listing="${id}"]`, { hasText: 'renovated' });
  await edited.waitFor({ timeout: 10_000 });
  assert.ok(BigInt(await edited.first().getAttribute('data-listing-version')) > BigInt(version));
  await screenshot(bob, 'live-01-another-users-edit');
  await alice.close();
  await bob.close();
});
