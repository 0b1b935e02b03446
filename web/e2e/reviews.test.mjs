// Reviews through the page, against the local stack seeded with the first SEED_LIMIT fixture listings:
// a seeded listing's reviews a page at a time (Listing.reviews(limit, nextToken)), then one review per
// user on a new listing (a second one is an AlreadyExistsError, shown as such), deleted by the listing's
// owner.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { PAGE_URL, launch, screenshot } from './browser.mjs';

const SEED_LIMIT = Number(process.env.SEED_LIMIT ?? 40);
const fixture = (name) =>
  readFileSync(new URL(`../../scripts/fixtures/${name}.jsonl`, import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
const seeded = fixture('listings').slice(0, SEED_LIMIT);
const seededReviews = fixture('reviews');
const PAGE_SIZE = 3; // web/src/reviews.ts REVIEW_PAGE_SIZE

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function openPage() {
  const page = await browser.context.newPage();
  page.on('dialog', (dialog) => dialog.accept()); // delete confirmations
  await page.goto(PAGE_URL);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
  return page;
}

async function searched(page, action) {
  const before = Number((await page.getAttribute('body', 'data-searches')) ?? 0);
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.searches) > n, before);
}

/** Runs `action` and waits until the reviews read it starts has rendered. */
async function reviewsRead(page, action) {
  const before = Number((await page.getAttribute('body', 'data-review-reads')) ?? 0);
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.reviewReads) > n, before);
  const error = page.locator('#reviews-error');
  assert.equal(await error.isVisible(), false, `reading reviews failed: ${await error.innerText().catch(() => '')}`);
}

async function findByTitle(page, title) {
  await page.fill('#q', title);
  await searched(page, () => page.click('#search-form button[type=submit]'));
}

async function openReviews(page, id) {
  await reviewsRead(page, () => page.click(`li[data-id="${id}"] button.show-reviews`));
  await page.waitForSelector(`#reviews-panel[data-listing="${id}"]:not([hidden])`);
}

const shownAuthors = (page) => page.locator('#review-list li.review').evaluateAll((nodes) => nodes.map((n) => n.dataset.author));

async function signIn(page, user) {
  await page.selectOption('#signin-user', user);
  await searched(page, () => page.click('#signin button[type=submit]'));
  await page.waitForSelector('#signedin:not([hidden])');
}

test("a seeded listing's reviews, a page at a time", async () => {
  const counts = new Map();
  for (const review of seededReviews) counts.set(review.listingId, (counts.get(review.listingId) ?? 0) + 1);
  const busy = seeded.find((listing) => (counts.get(listing.id) ?? 0) > PAGE_SIZE);
  assert.ok(busy, `the first ${SEED_LIMIT} fixture listings include one with more than ${PAGE_SIZE} reviews`);
  const expected = seededReviews.filter((review) => review.listingId === busy.id).map((review) => review.author);

  const page = await openPage(); // signed out: the API key reads
  await findByTitle(page, busy.title);
  await openReviews(page, busy.id);
  assert.equal((await shownAuthors(page)).length, PAGE_SIZE);
  assert.equal(await page.locator('#more-reviews').isVisible(), true);
  while (await page.locator('#more-reviews').isVisible()) await reviewsRead(page, () => page.click('#more-reviews'));
  const authors = await shownAuthors(page);
  assert.deepEqual([...authors].sort(), [...expected].sort(), 'every review once, no repeats');
  assert.equal(await page.locator('#review-list button.delete-review').count(), 0, 'no delete buttons when signed out');
  assert.equal(await page.locator('#review-form').isVisible(), false);

  // Signed in as neither the listing's owner nor an author: still no delete buttons, but the review form.
  await signIn(page, 'bob');
  assert.equal(await page.locator('#review-list button.delete-review').count(), 0);
  assert.equal(await page.locator('#review-form').isVisible(), true);
  await page.close();
});

test("one review per user; the listing's owner deletes it", async () => {
  const title = `E2E reviewed loft ${randomUUID().slice(0, 8)}`;
  const alice = await openPage();
  await signIn(alice, 'alice');
  await alice.fill('#listing-form [name=title]', title);
  await alice.selectOption('#listing-form [name=category]', 'STUDIO');
  await alice.fill('#listing-form [name=price]', '900');
  await alice.fill('#listing-form [name=currency]', 'EUR');
  await alice.fill('#listing-form [name=city]', 'Berlin');
  await alice.fill('#listing-form [name=lat]', '52.52');
  await alice.fill('#listing-form [name=lon]', '13.405');
  await alice.click('#save');
  await alice.waitForSelector('#sync[data-state="caught-up"]', { timeout: 30_000 });
  await findByTitle(alice, title);
  const id = await alice.locator('#results li.card').first().getAttribute('data-id');
  assert.ok(id);

  // bob reviews it once ...
  const bob = await openPage();
  await signIn(bob, 'bob');
  await findByTitle(bob, title);
  await openReviews(bob, id);
  assert.equal(await bob.locator('#reviews-summary').innerText(), 'No reviews yet.');
  await bob.selectOption('#review-form [name=rating]', '4');
  await bob.fill('#review-form [name=text]', 'Quiet street, bright rooms.');
  await reviewsRead(bob, () => bob.click('#add-review'));
  await bob.waitForSelector('#review-message[data-kind="ok"]');
  assert.equal((await shownAuthors(bob)).length, 1);

  // ... and a second review is refused, and says why.
  await bob.fill('#review-form [name=text]', 'Changed my mind.');
  await bob.click('#add-review');
  await bob.waitForSelector('#review-message[data-kind="error"]');
  assert.equal(await bob.getAttribute('#review-message', 'data-error-type'), 'AlreadyExistsError');
  assert.match(await bob.locator('#review-message').innerText(), /already reviewed this listing/);
  await screenshot(bob, '06-second-review-refused');

  // alice owns the listing: she gets a delete button on bob's review, and deleting it removes it.
  await openReviews(alice, id);
  const [author] = await shownAuthors(alice);
  assert.equal(await alice.locator(`#review-list li[data-author="${author}"] button.delete-review`).count(), 1);
  await reviewsRead(alice, () => alice.click(`#review-list li[data-author="${author}"] button.delete-review`));
  await alice.waitForSelector('#review-message[data-kind="ok"]');
  assert.deepEqual(await shownAuthors(alice), []);

  // bob's next read finds it gone too.
  await openReviews(bob, id);
  assert.deepEqual(await shownAuthors(bob), []);
  await bob.close();
  await alice.close();
});
