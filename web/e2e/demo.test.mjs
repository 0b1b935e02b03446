// The page `make demo` serves, opened the way its printout says: Chromium trusting the printed server key,
// signed in as the printed demo user. It must show the seeded listings, and a listing another user
// creates must arrive in its live feed without a search or a reload. Run by tests/web/test_web_demo.py
// against a running `scripts/dev.py demo`.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { PAGE_URL, launch, screenshot } from './browser.mjs';

const { DEMO_USER, OTHER_USER, SEEDED_ID, SEEDED_TITLE } = process.env;
const EXPECTED_TOTAL = Number(process.env.EXPECTED_TOTAL);

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function searched(page, action) {
  const before = Number((await page.getAttribute('body', 'data-searches')) ?? 0);
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.searches) > n, before);
  assert.equal(await page.locator('#search-error').isVisible(), false, 'search failed');
}

// What the page's own mutations select: a subscriber receives only the fields the mutation selected.
const LISTING_FIELDS = 'id title description category tags price currency location { lat lon } city owner status createdAt updatedAt version';

/** Another user's write, straight to the endpoint with their local token from the served config.json. */
async function createAs(user, title) {
  const config = await (await fetch(new URL('config.json', PAGE_URL))).json();
  const input = { title, category: 'ROOM', price: 700, currency: 'EUR', location: { lat: 48.85, lon: 2.35 }, city: 'Paris' };
  const response = await fetch(config.graphql_url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: config.local_users[user] },
    body: JSON.stringify({ query: `mutation($input: CreateListingInput!) { createListing(input: $input) { ${LISTING_FIELDS} } }`, variables: { input } }),
  });
  const body = await response.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data.createListing.id;
}

test('the demo page: seeded listings, sign-in as the demo user, live changes', async () => {
  const page = await browser.context.newPage();
  await page.goto(PAGE_URL);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
  assert.equal(await page.locator('#page-error').isVisible(), false, await page.locator('#page-error').innerText());
  // Signed out, the API key searches everything the demo wrote.
  assert.equal(await page.locator('#summary').innerText().then((text) => Number(/^(\d+) listings/.exec(text)?.[1])), EXPECTED_TOTAL);

  await page.selectOption('#signin-user', DEMO_USER);
  await searched(page, () => page.click('#signin button[type=submit]'));
  await page.waitForSelector('#signedin:not([hidden])');
  assert.equal(await page.locator('#me').innerText(), DEMO_USER);
  await page.waitForSelector('body[data-live="on"]', { timeout: 15_000 });

  // A seeded fixture listing, found by its title.
  await page.fill('#q', SEEDED_TITLE);
  await searched(page, () => page.click('#search-form button[type=submit]'));
  const card = page.locator(`#results li.card[data-id="${SEEDED_ID}"]`);
  assert.equal(await card.count(), 1);
  assert.ok((await card.innerText()).includes(SEEDED_TITLE));

  const title = `Demo live room ${randomUUID().slice(0, 8)}`;
  const id = await createAs(OTHER_USER, title);
  const arrived = page.locator(`#live-feed li[data-listing="${id}"]`);
  await arrived.waitFor({ timeout: 10_000 });
  const text = await arrived.innerText();
  assert.ok(text.includes(title) && text.includes("by another user"), text);
  await screenshot(page, 'demo-01-live');
  await page.close();
});
