// The page's failure paths that need no stack: a missing or malformed config.json, and an API that does
// not answer. Each must end in a clear message on the page, never a blank or half-working page.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { PAGE_URL, launch, screenshot } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Opens the page with config.json answered by `reply` (Playwright intercepts the request). */
async function openWith(reply) {
  const page = await browser.context.newPage();
  await page.route('**/config.json', (route) => route.fulfill(reply));
  await page.goto(PAGE_URL);
  return page;
}

/** A loopback port with nothing listening on it. */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('missing config.json says how to make one', async () => {
  const page = await openWith({ status: 404, body: 'not found' });
  const banner = page.locator('#page-error');
  await banner.waitFor({ state: 'visible' });
  assert.match(await banner.innerText(), /config\.json: HTTP 404 \(run `npm run config`/);
  await screenshot(page, 'config-missing');
  await page.close();
});

test('config.json without a region is rejected by name', async () => {
  const body = JSON.stringify({ graphql_url: 'http://127.0.0.1:1/graphql', auth: {}, local_users: {} });
  const page = await openWith({ status: 200, contentType: 'application/json', body });
  const banner = page.locator('#page-error');
  await banner.waitFor({ state: 'visible' });
  assert.match(await banner.innerText(), /"region" must be a non-empty string/);
  await page.close();
});

test('an API that does not answer shows a search error, and the page stays usable', async () => {
  const config = {
    graphql_url: `http://127.0.0.1:${await closedPort()}/graphql`,
    region: 'us-east-1',
    auth: { api_key: 'da2-local', user_pool_id: null, user_pool_client_id: null, iam: false },
    local_users: { alice: 'not-a-jwt' },
  };
  const page = await openWith({ status: 200, contentType: 'application/json', body: JSON.stringify(config) });
  const banner = page.locator('#search-error');
  await banner.waitFor({ state: 'visible' });
  assert.match(await banner.innerText(), /The API did not answer/);
  assert.equal(await page.locator('#page-error').isVisible(), false);
  assert.equal(await page.locator('#results li').count(), 0);
  assert.match(await page.locator('#stack').innerText(), /local stack/);
  await screenshot(page, 'api-down');
  await page.close();
});
