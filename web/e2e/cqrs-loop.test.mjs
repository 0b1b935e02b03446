// The CQRS loop through the page, against the local stack seeded with the first SEED_LIMIT fixture
// listings: search and facets over the seeded data, then create → caught up in search → edit →
// stale-version conflict (a second tab) → delete. Expectations come from the fixture file itself.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { ARTIFACTS, PAGE_URL, launch, screenshot } from './browser.mjs';

const SEED_LIMIT = Number(process.env.SEED_LIMIT ?? 40);
const FIXTURES = process.env.FIXTURES ?? new URL('../../scripts/fixtures/listings.jsonl', import.meta.url);
const seeded = readFileSync(FIXTURES, 'utf8').trim().split('\n').slice(0, SEED_LIMIT).map((line) => JSON.parse(line));
const CATCH_UP_MS = 30_000;

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function openPage() {
  const page = await browser.context.newPage();
  page.on('dialog', (dialog) => dialog.accept()); // the delete confirmation
  await page.goto(PAGE_URL);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
  return page;
}

/** Runs `action` and waits until the search it starts has rendered. */
async function searched(page, action) {
  const before = Number((await page.getAttribute('body', 'data-searches')) ?? 0);
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.searches) > n, before);
  const error = page.locator('#search-error');
  assert.equal(await error.isVisible(), false, `search failed: ${await error.innerText().catch(() => '')}`);
}

async function total(page) {
  const text = await page.locator('#summary').innerText();
  if (text.startsWith('No listings')) return 0;
  return Number(/^(\d+) listings/.exec(text)?.[1] ?? Number.NaN);
}

const cards = (page) =>
  page.locator('#results li.card').evaluateAll((nodes) => nodes.map((node) => ({ ...node.dataset, text: node.innerText })));

async function signIn(page, user) {
  await page.selectOption('#signin-user', user);
  await searched(page, () => page.click('#signin button[type=submit]')); // signing in searches again
  await page.waitForSelector('#signedin:not([hidden])');
  assert.equal(await page.locator('#me').innerText(), user);
}

/** Waits for the sync banner to report that search shows the write, and returns its text. */
async function caughtUp(page) {
  await page.waitForSelector('#sync[data-state="caught-up"], #sync[data-state="lagging"]', { timeout: CATCH_UP_MS });
  const text = await page.locator('#sync').innerText();
  assert.equal(await page.getAttribute('#sync', 'data-state'), 'caught-up', text);
  console.log(text); // the catch-up time, kept in the TAP log
  return text;
}

async function formMessage(page, kind) {
  const box = page.locator(`#form-message[data-kind="${kind}"]`);
  await box.waitFor({ state: 'visible' });
  return box.innerText();
}

function haversineKm(a, b) {
  const rad = Math.PI / 180;
  const h =
    Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lon - a.lon) * rad) / 2) ** 2;
  return 6371.0088 * 2 * Math.asin(Math.sqrt(h));
}

test('search, facets, geo and paging over the seeded listings', async () => {
  const page = await openPage();
  assert.equal(await total(page), seeded.length, 'signed-out search (API key) sees every seeded listing');

  // Category facet counts are the fixture's; choosing one filters to exactly that many.
  const byCategory = new Map();
  for (const listing of seeded) byCategory.set(listing.category, [...(byCategory.get(listing.category) ?? []), listing]);
  for (const [category, listings] of byCategory) {
    const label = page.locator('label.facet', { has: page.locator(`input[value="${category}"]`) });
    assert.equal(await label.locator('.count').innerText(), String(listings.length), category);
  }
  const [top, topListings] = [...byCategory].sort((a, b) => b[1].length - a[1].length)[0];
  await searched(page, () => page.check(`input[data-facet="category"][value="${top}"]`));
  assert.equal(await total(page), topListings.length);
  assert.ok((await cards(page)).every((card) => card.category === top));
  await screenshot(page, '01-category-facet');
  await searched(page, () => page.uncheck(`input[data-facet="category"][value="${top}"]`));
  assert.equal(await total(page), seeded.length);

  // A price bucket fills min/max and keeps only prices inside it.
  const bucket = page.locator('button.price-range:not([disabled])').first();
  const bucketCount = Number(await bucket.locator('.count').innerText());
  await searched(page, () => bucket.click());
  assert.equal(await total(page), bucketCount);
  const [min, max] = [await page.inputValue('#min-price'), await page.inputValue('#max-price')];
  for (const card of await cards(page)) {
    assert.ok((min === '' || Number(card.price) >= Number(min)) && (max === '' || Number(card.price) <= Number(max)));
  }
  await searched(page, () => page.click('#clear'));

  // Full text: a city name finds that city's listings.
  const city = seeded[0].city;
  await page.fill('#q', city);
  await searched(page, () => page.click('#search-form button[type=submit]'));
  assert.equal(await total(page), seeded.filter((listing) => listing.city === city).length);
  assert.ok((await cards(page)).every((card) => card.city === city));
  await screenshot(page, '02-text-search');
  await searched(page, () => page.click('#clear'));

  // Near a point, nearest first: exactly the seeded listings inside the radius.
  const point = seeded[0].location;
  const radiusKm = 25;
  await page.fill('#near-lat', String(point.lat));
  await page.fill('#near-lon', String(point.lon));
  await page.fill('#near-km', String(radiusKm));
  await searched(page, () => page.selectOption('#sort', 'DISTANCE'));
  const inside = seeded.filter((listing) => haversineKm(point, listing.location) <= radiusKm);
  assert.equal(await total(page), inside.length);
  const distances = (await cards(page)).map((card) => Number(card.distance));
  assert.deepEqual(distances, [...distances].sort((a, b) => a - b));
  assert.ok(distances.every((d) => d <= radiusKm));
  await searched(page, () => page.click('#clear'));

  // "Load more" pages through everything once: no repeats, no gaps.
  await searched(page, () => page.selectOption('#sort', 'NEWEST'));
  while (await page.locator('#more').isVisible()) await searched(page, () => page.click('#more'));
  const ids = (await cards(page)).map((card) => card.id);
  assert.equal(ids.length, seeded.length);
  assert.deepEqual(new Set(ids), new Set(seeded.map((listing) => listing.id)));
  await page.close();
});

test('create, see it in search, edit, lose a version race, delete', async () => {
  const title = `E2E loft ${randomUUID().slice(0, 8)}`;
  const alice = await openPage();
  await signIn(alice, 'alice');

  // Invalid input: the API's ValidationError is shown and nothing is created.
  await alice.fill('#listing-form [name=title]', title);
  await alice.fill('#listing-form [name=description]', 'Bright loft written by the browser test.');
  await alice.selectOption('#listing-form [name=category]', 'STUDIO');
  await alice.fill('#listing-form [name=tags]', 'e2e, loft');
  await alice.fill('#listing-form [name=price]', '-5');
  await alice.fill('#listing-form [name=currency]', 'EUR');
  await alice.fill('#listing-form [name=city]', 'Berlin');
  await alice.fill('#listing-form [name=lat]', '52.52');
  await alice.fill('#listing-form [name=lon]', '13.405');
  await alice.click('#save');
  assert.match(await formMessage(alice, 'error'), /ValidationError/);

  // Create: the page waits for search to show the new listing, then lists it.
  await alice.fill('#listing-form [name=price]', '1234.5');
  await alice.click('#save');
  assert.match(await formMessage(alice, 'ok'), /Created/);
  assert.match(await caughtUp(alice), /caught up/);
  await alice.fill('#q', title);
  await searched(alice, () => alice.click('#search-form button[type=submit]'));
  let [mine] = await cards(alice);
  assert.equal(await total(alice), 1);
  assert.equal(mine.version, await alice.getAttribute('#sync', 'data-version'));
  assert.equal(Number(mine.price), 1234.5);
  await screenshot(alice, '03-created-caught-up');
  // The README's picture: the new listing on top of the newest seeded ones, search caught up.
  await searched(alice, () => alice.click('#clear'));
  assert.equal((await cards(alice))[0].id, mine.id);
  await alice.screenshot({ path: `${ARTIFACTS}/web-example.png` });
  await alice.fill('#q', title);
  await searched(alice, () => alice.click('#search-form button[type=submit]'));

  // Edit: from a consistent read, saved at a higher version, and search catches up with it.
  await alice.click(`li[data-id="${mine.id}"] button.edit`);
  await alice.waitForSelector(`#editing[data-version="${mine.version}"]`);
  await alice.fill('#listing-form [name=price]', '1300');
  await alice.click('#save');
  assert.match(await formMessage(alice, 'ok'), /Saved version/);
  await caughtUp(alice);
  const edited = (await cards(alice)).find((card) => card.id === mine.id);
  assert.ok(BigInt(edited.version) > BigInt(mine.version));
  assert.equal(Number(edited.price), 1300);

  // A second tab opens the same listing for editing ...
  const tab = await openPage();
  await signIn(tab, 'alice');
  await tab.fill('#q', title);
  await searched(tab, () => tab.click('#search-form button[type=submit]'));
  await tab.click(`li[data-id="${mine.id}"] button.edit`);
  await tab.waitForSelector(`#editing[data-version="${edited.version}"]`);

  // ... the first tab saves meanwhile ...
  await alice.fill('#listing-form [name=description]', 'Edited in the first tab.');
  await alice.click('#save');
  assert.match(await formMessage(alice, 'ok'), /Saved version/);
  await caughtUp(alice);
  [mine] = await cards(alice);
  assert.match(mine.text, /Edited in the first tab/);

  // ... so the second tab's save is a conflict: not applied, and it says how to go on.
  await tab.fill('#listing-form [name=title]', `${title} (tab 2)`);
  await tab.click('#save');
  assert.match(await formMessage(tab, 'conflict'), /someone changed .* after you loaded version/);
  await screenshot(tab, '04-conflict');
  const stored = await alice.evaluate(async (id) => {
    const body = JSON.stringify({ query: 'query($id: ID!) { getListing(id: $id) { title version } }', variables: { id } });
    const config = await (await fetch('config.json')).json();
    const response = await fetch(config.graphql_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': config.auth.api_key },
      body,
    });
    return (await response.json()).data.getListing;
  }, mine.id);
  assert.deepEqual(stored, { title, version: mine.version }, 'the conflicting save changed nothing');
  await tab.click('#load-latest');
  await tab.waitForSelector(`#editing[data-version="${mine.version}"]`);
  assert.equal(await tab.inputValue('#listing-form [name=description]'), 'Edited in the first tab.');
  await tab.fill('#listing-form [name=title]', `${title} (tab 2)`);
  await tab.click('#save');
  assert.match(await formMessage(tab, 'ok'), /Saved version/);
  await caughtUp(tab);

  // Another user sees the listing but gets no edit or delete buttons for it.
  await searched(tab, () => tab.click('#signout'));
  await signIn(tab, 'bob');
  await searched(tab, () => tab.click('#search-form button[type=submit]'));
  assert.equal(await tab.locator(`li[data-id="${mine.id}"]`).count(), 1);
  assert.equal(await tab.locator(`li[data-id="${mine.id}"] .actions`).count(), 0);

  // The first tab still holds the older version: its delete is a conflict too, until it loads the latest.
  await alice.click(`li[data-id="${mine.id}"] button.delete`);
  assert.match(await formMessage(alice, 'conflict'), /Not deleted/);
  await alice.click('#load-latest');
  await alice.waitForFunction((v) => document.querySelector('#editing')?.dataset.version !== v, mine.version);
  await alice.click(`li[data-id="${mine.id}"] button.delete`);
  assert.match(await formMessage(alice, 'ok'), /Deleted/);
  assert.match(await caughtUp(alice), /deletion/);
  assert.equal(await alice.locator(`li[data-id="${mine.id}"]`).count(), 0);
  await screenshot(alice, '05-deleted');
  await tab.close();
  await alice.close();
});
