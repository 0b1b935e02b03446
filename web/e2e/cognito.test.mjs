// Sign-in on a deployed stack's config (Cognito user pool, no local tokens), with Amplify's own Cognito
// client. AWS cannot be reached here: the page's requests to Cognito are forwarded to moto's Cognito
// (real SRP message flow; moto does not check the password proof), and the GraphQL endpoint is a closed
// port, because only AWS AppSync accepts Cognito tokens. What is checked is the page's side: the
// password form, typed sign-in failures, and that requests then carry the user's Cognito access token.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PAGE_URL, launch, screenshot } from './browser.mjs';

const MOTO_URL = process.env.MOTO_URL;
const CONFIG = JSON.parse(process.env.PAGE_CONFIG ?? '{}');

let browser;
before(async () => {
  assert.ok(MOTO_URL, 'MOTO_URL must name the moto server holding the user pool');
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function openPage() {
  const page = await browser.context.newPage();
  await page.route('**/config.json', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(CONFIG) }),
  );
  // Cognito's regional endpoint → moto (the request leaves Node, not the page: no CORS involved).
  // One moto gap is bridged here: Amplify answers the SRP challenge with USERNAME = USER_ID_FOR_SRP, as
  // Cognito allows, but moto finds users by name only; so that id is swapped back for the name.
  const namesBySrpId = new Map();
  await page.route(/^https:\/\/cognito-idp\.[a-z0-9-]+\.amazonaws\.com\//, async (route) => {
    const request = route.request();
    const body = JSON.parse(request.postData() ?? '{}');
    const answer = body.ChallengeResponses;
    if (answer?.USERNAME && namesBySrpId.has(answer.USERNAME)) answer.USERNAME = namesBySrpId.get(answer.USERNAME);
    const response = await route.fetch({ url: `${MOTO_URL}/`, postData: JSON.stringify(body) });
    const challenge = (await response.json().catch(() => ({}))).ChallengeParameters;
    if (challenge?.USER_ID_FOR_SRP) namesBySrpId.set(challenge.USER_ID_FOR_SRP, challenge.USERNAME);
    await route.fulfill({ response });
  });
  await page.goto(PAGE_URL);
  await page.waitForSelector('#signin:not([hidden])');
  return page;
}

function jwtPayload(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

test('a Cognito config asks for user name and password', async () => {
  const page = await openPage();
  assert.equal(await page.locator('#signin-username').isVisible(), true);
  assert.equal(await page.locator('#signin-password').isVisible(), true);
  assert.equal(await page.locator('#signin-user').isVisible(), false);
  assert.match(await page.locator('#stack').innerText(), /^AWS · /);
  await page.close();
});

test('an unknown user gets Cognito’s typed error', async () => {
  const page = await openPage();
  await page.fill('#signin-username', 'nobody');
  await page.fill('#signin-password', 'Whatever-123');
  await page.click('#signin button[type=submit]');
  const banner = page.locator('#page-error');
  await banner.waitFor({ state: 'visible' });
  assert.match(await banner.innerText(), /Sign-in failed: UserNotFoundException/);
  assert.equal(await page.locator('#signedin').isVisible(), false);
  await page.close();
});

test('a signed-in user’s requests carry their Cognito access token', async () => {
  const page = await openPage();
  await page.fill('#signin-username', 'carol');
  await page.fill('#signin-password', process.env.COGNITO_PASSWORD ?? '');
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#signedin:not([hidden]), #page-error:not([hidden])');
  assert.equal(await page.locator('#page-error').isVisible(), false, await page.locator('#page-error').innerText());
  assert.equal(await page.locator('#me').innerText(), 'carol');
  await screenshot(page, 'cognito-signed-in');

  const request = page.waitForRequest((r) => r.url() === CONFIG.graphql_url && r.method() === 'POST');
  await page.click('#search-form button[type=submit]');
  const headers = (await request).headers();
  assert.equal(headers['x-api-key'], undefined, 'signed in: no API key');
  const claims = jwtPayload(headers.authorization);
  assert.equal(claims.token_use, 'access');
  assert.equal(claims.username, 'carol');
  assert.ok(claims.iss.endsWith(`/${CONFIG.auth.user_pool_id}`), claims.iss);

  await page.click('#signout');
  await page.waitForSelector('#signin:not([hidden])');
  await page.close();
});
