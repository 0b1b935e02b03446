// The real Amplify v6 client (aws-amplify, as the page uses it) subscribing to the local endpoint over
// wss:// in each auth mode: it derives wss://<host>/graphql/realtime, sends the `header-` subprotocol,
// signs IAM with its own signer. Node's WebSocket (--experimental-websocket on Node 20) stands in for
// the browser's. Run by tests/web/test_web_realtime_amplify.py with the endpoint in the environment.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/api';
import { Hub } from 'aws-amplify/utils';

const { GRAPHQL_URL, API_KEY, TOKEN, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = process.env;

function jwt(token) {
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  return { toString: () => token, payload };
}

Amplify.configure(
  { API: { GraphQL: { endpoint: GRAPHQL_URL, region: 'us-east-1', defaultAuthMode: 'apiKey', apiKey: API_KEY } } },
  {
    Auth: {
      tokenProvider: { getTokens: async () => ({ accessToken: jwt(TOKEN) }) },
      credentialsProvider: {
        getCredentialsAndIdentityId: async () => ({
          credentials: {
            accessKeyId: AWS_ACCESS_KEY_ID,
            secretAccessKey: AWS_SECRET_ACCESS_KEY,
            sessionToken: AWS_SESSION_TOKEN,
          },
        }),
        clearCredentialsAndIdentityId: () => {},
      },
    },
  },
);
const client = generateClient();
// Amplify keeps timers and its HTTP agent alive for seconds after the last test; once the tests are
// done, leave with their exit code (unref: this timer alone never keeps the process up).
after(() => setTimeout(() => process.exit(), 500).unref());

const SUBSCRIBE = 'subscription($id: ID) { onListingChanged(id: $id) { id title owner } }';
const CREATE = 'mutation($input: CreateListingInput!) { createListing(input: $input) { id title owner } }';

for (const authMode of ['apiKey', 'userPool', 'iam']) {
  test(`an ${authMode} subscriber gets the listing another client creates`, async () => {
    const id = `amplify-${authMode}-${randomUUID().slice(0, 8)}`;
    // Amplify announces the server's start_ack on its Hub: write only once the subscription is live.
    const acknowledged = new Promise((resolve) => {
      const stop = Hub.listen('api', ({ payload }) => {
        if (payload.event === 'Subscription ack' && payload.data?.variables?.id === id) {
          stop();
          resolve();
        }
      });
    });
    const received = new Promise((resolve, reject) => {
      const subscription = client.graphql({ query: SUBSCRIBE, variables: { id }, authMode }).subscribe({
        next: (event) => {
          subscription.unsubscribe();
          resolve(event.data.onListingChanged);
        },
        error: (error) => reject(new Error(JSON.stringify(error))),
      });
    });
    await Promise.race([
      acknowledged,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no start_ack in 10 s')), 10_000)),
    ]);
    const input = { id, title: `Amplify ${authMode}`, category: 'ROOM', price: 1, currency: 'EUR', location: { lat: 1, lon: 1 }, city: 'Town' };
    const created = await client.graphql({ query: CREATE, variables: { input }, authMode: 'userPool' });
    assert.equal(created.data.createListing.id, id);
    const listing = await Promise.race([
      received,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no subscription event in 10 s')), 10_000)),
    ]);
    assert.deepEqual(listing, created.data.createListing);
  });
}
