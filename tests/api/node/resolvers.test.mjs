// Every resolver's request and response handler, run on the local runtime.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as getListing from '../../../resolvers/Query.getListing.js';
import * as listingReviews from '../../../resolvers/Listing.reviews.js';
import * as authorizeReviewDelete from '../../../resolvers/functions/authorizeReviewDelete.js';
import * as listingsByOwner from '../../../resolvers/Query.listingsByOwner.js';
import * as searchListings from '../../../resolvers/Query.searchListings.js';
import * as deleteListingItem from '../../../resolvers/functions/deleteListingItem.js';
import * as deleteReviewItem from '../../../resolvers/functions/deleteReviewItem.js';
import * as loadListingForWrite from '../../../resolvers/functions/loadListingForWrite.js';
import * as loadListingReviewKeys from '../../../resolvers/functions/loadListingReviewKeys.js';
import * as loadReviewForWrite from '../../../resolvers/functions/loadReviewForWrite.js';
import * as putListing from '../../../resolvers/functions/putListing.js';
import * as putReview from '../../../resolvers/functions/putReview.js';
import * as updateListingItem from '../../../resolvers/functions/updateListingItem.js';
import * as validateListingInput from '../../../resolvers/functions/validateListingInput.js';
import * as validateReviewInput from '../../../resolvers/functions/validateReviewInput.js';
import * as pipeline from '../../../resolvers/pipeline.js';
import { begin } from '../../../devstack/appsync/runtime/state.mjs';

const USER = 'User Pool Authorization';
const IAM = 'IAM Authorization';
const ALICE = { sub: 'alice-sub', username: 'alice' };
const TABLE = 'listings-table';
// Not the deployed alias: proves searchListings takes its read alias from ctx.env, as the api module and
// the local endpoint set it from terraform/definitions/indices.json.
const LISTINGS_READ_ALIAS = 'listings-read-under-test';
const ACCOUNT = '111122223333';
// Two backend roles in the allow-list, as the api module writes it (`<account>:<role name>`, space-separated).
const ENV = { TABLE_NAME: TABLE, LISTINGS_READ_ALIAS, IAM_CALLER_ROLES: `${ACCOUNT}:cqrs-prod-seed ${ACCOUNT}:cqrs-prod-projector` };

function ctx({ args = {}, stash = {}, identity = ALICE, fieldName = 'createListing', result, error } = {}) {
  return { args, arguments: args, stash, identity, info: { fieldName }, env: ENV, result, error, prev: {} };
}

function as(authType) {
  begin(authType);
}

function throwsAppSync(fn, errorType, pattern) {
  assert.throws(fn, (error) => {
    assert.ok(error.appsync, `expected util.error, got ${error}`);
    assert.equal(error.appsync.errorType, errorType);
    if (pattern) assert.match(error.appsync.message, pattern);
    return true;
  });
  let caught;
  try {
    fn();
  } catch (error) {
    caught = error.appsync;
  }
  return caught;
}

const LISTING_INPUT = {
  title: 'Sunny flat',
  description: 'Two rooms',
  category: 'APARTMENT',
  tags: ['balcony'],
  price: 1200.5,
  currency: 'EUR',
  location: { lat: 52.52, lon: 13.405 },
  city: 'Berlin',
};

const STORED = {
  pk: 'LISTING#l1',
  sk: 'LISTING',
  id: 'l1',
  type: 'Listing',
  ...LISTING_INPUT,
  owner: 'alice-sub',
  status: 'ACTIVE',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  version: 1767225600000000,
};

const cancelled = (...items) => ({
  error: { type: 'DynamoDB:TransactionCanceledException', message: 'Transaction cancelled' },
  result: {
    keys: null,
    cancellationReasons: items.map((item) =>
      item === undefined ? { type: 'None', message: null } : { type: 'ConditionalCheckFailed', message: 'failed', ...(item ? { item } : {}) },
    ),
  },
});

// A cancelled one-item transaction whose reason is not a failed condition: no verdict on the item.
const TRANSACTION_CONFLICT = {
  error: { type: 'DynamoDB:TransactionCanceledException', message: 'Transaction cancelled [TransactionConflict]' },
  result: { keys: null, cancellationReasons: [{ type: 'TransactionConflict', message: 'conflict' }] },
};

test('pipeline.js passes on the last function result', () => {
  as(USER);
  assert.deepEqual(pipeline.request(ctx()), {});
  assert.deepEqual(pipeline.response({ prev: { result: { id: 'x' } } }), { id: 'x' });
});

function roleIdentity(arn, extra = {}) {
  return { accountId: ACCOUNT, userArn: arn, username: 'AROAEXAMPLE:session', cognitoIdentityPoolId: null, ...extra };
}

test('pipeline.js admits IAM callers only as an allow-listed role of the allow-listed account', () => {
  as(IAM);
  for (const arn of [
    `arn:aws:sts::${ACCOUNT}:assumed-role/cqrs-prod-seed/seed-run-1`,
    `arn:aws:sts::${ACCOUNT}:assumed-role/cqrs-prod-projector/1733390000000`,
    `arn:aws-cn:sts::${ACCOUNT}:assumed-role/cqrs-prod-seed/run-1`,
  ]) {
    assert.deepEqual(pipeline.request(ctx({ identity: roleIdentity(arn) })), {}, arn);
  }
  for (const arn of [
    `arn:aws:sts::${ACCOUNT}:assumed-role/cqrs-prod-intruder/run-1`, // another role of the account
    `arn:aws:sts::999988887777:assumed-role/cqrs-prod-seed/run-1`, // the same name in another account
    `arn:aws:sts::${ACCOUNT}:assumed-role/cqrs-prod-see/run-1`, // a prefix of a listed name
    `arn:aws:sts::${ACCOUNT}:assumed-role/cqrs-prod-seedling/run-1`, // a listed name as a prefix
    `arn:aws:iam::${ACCOUNT}:user/cqrs-prod-seed`, // an IAM user of that name: not a backend role
    `arn:aws:sts::${ACCOUNT}:federated-user/cqrs-prod-seed`,
    `arn:aws:sts::${ACCOUNT}:assumed-role/cqrs-prod-seed/run-1/extra`,
    `arn:aws:iam::${ACCOUNT}:root`,
    '',
  ]) {
    throwsAppSync(() => pipeline.request(ctx({ identity: roleIdentity(arn) })), 'Unauthorized');
  }
  throwsAppSync(() => pipeline.request(ctx({ identity: null })), 'Unauthorized');
  const unlisted = { ...ctx({ identity: roleIdentity(`arn:aws:sts::${ACCOUNT}:assumed-role/cqrs-prod-seed/run-1`) }), env: { TABLE_NAME: TABLE } };
  throwsAppSync(() => pipeline.request(unlisted), 'Unauthorized', undefined);
});

test('pipeline.js refuses Cognito identity-pool credentials, even for an allow-listed role', () => {
  as(IAM);
  const identity = roleIdentity(`arn:aws:sts::${ACCOUNT}:assumed-role/cqrs-prod-seed/CognitoIdentityCredentials`, {
    cognitoIdentityPoolId: 'eu-west-1:7f3c4e1a-0000-4000-8000-000000000000',
    cognitoIdentityId: 'eu-west-1:1a2b3c4d-0000-4000-8000-000000000000',
  });
  throwsAppSync(() => pipeline.request(ctx({ identity })), 'Unauthorized');
});

test('pipeline.js leaves user-pool and API-key callers to their directives', () => {
  as(USER);
  assert.deepEqual(pipeline.request(ctx({ identity: ALICE })), {});
  as('API Key Authorization');
  assert.deepEqual(pipeline.request(ctx({ identity: null })), {});
});

test('validateListingInput accepts a valid create and records the caller', () => {
  as(USER);
  const c = ctx({ args: { input: LISTING_INPUT } });
  assert.deepEqual(validateListingInput.request(c), { payload: null });
  assert.deepEqual(c.stash.actor, { backend: false, id: 'alice-sub' });
  assert.equal(c.stash.input, LISTING_INPUT);
});

test('validateListingInput reports every problem at once as a ValidationError', () => {
  as(USER);
  const input = {
    ...LISTING_INPUT,
    id: 'bad id!',
    title: '   ',
    price: -1.234,
    currency: 'eur',
    location: { lat: 91, lon: 0 },
    tags: Array.from({ length: 21 }, () => 't'),
  };
  const error = throwsAppSync(() => validateListingInput.request(ctx({ args: { input } })), 'ValidationError');
  assert.equal(error.errorInfo.problems.length, 6, error.errorInfo.problems.join('\n'));
  for (const word of ['id', 'title', 'price', 'currency', 'location', 'tags']) {
    assert.ok(error.errorInfo.problems.some((p) => p.startsWith(word)), `no problem names ${word}`);
  }
});

test('validateListingInput: users may not set another owner; backends must set one', () => {
  as(USER);
  throwsAppSync(
    () => validateListingInput.request(ctx({ args: { input: { ...LISTING_INPUT, owner: 'mallory' } } })),
    'UnauthorizedError',
  );
  as(IAM);
  throwsAppSync(() => validateListingInput.request(ctx({ args: { input: LISTING_INPUT }, identity: {} })), 'ValidationError', /owner is required/);
  const c = ctx({ args: { input: { ...LISTING_INPUT, owner: 'bob' } }, identity: {} });
  validateListingInput.request(c);
  assert.deepEqual(c.stash.actor, { backend: true, id: null });
});

test('validateListingInput checks updates: version string and at least one change', () => {
  as(USER);
  const update = (input) => ctx({ args: { input: { id: 'l1', ...input } }, fieldName: 'updateListing' });
  throwsAppSync(() => validateListingInput.request(update({ expectedVersion: '1' })), 'ValidationError', /at least one/);
  throwsAppSync(() => validateListingInput.request(update({ expectedVersion: 'abc', title: 'x' })), 'ValidationError', /expectedVersion/);
  throwsAppSync(
    () => validateListingInput.request(update({ expectedVersion: '9007199254740993', title: 'x' })),
    'ValidationError',
    /expectedVersion/,
  );
  validateListingInput.request(update({ expectedVersion: '17', price: 0 }));
});

test('putListing writes a one-item transaction with the create version scheme', () => {
  as(USER);
  const c = ctx({ stash: { input: LISTING_INPUT, actor: { backend: false, id: 'alice-sub' } } });
  const before = Date.now();
  const request = putListing.request(c);
  assert.equal(request.operation, 'TransactWriteItems');
  const [put] = request.transactItems;
  assert.equal(put.table, TABLE);
  assert.equal(put.operation, 'PutItem');
  assert.equal(put.condition.expression, 'attribute_not_exists(pk)');
  assert.equal(put.condition.returnValuesOnConditionCheckFailure, true);
  assert.deepEqual(put.key, { pk: { S: `LISTING#${c.stash.item.id}` }, sk: { S: 'LISTING' } });
  const version = put.attributeValues.version.N;
  assert.ok(version >= before * 1000 && version <= Date.now() * 1000 && version % 1000 === 0);
  assert.ok(Number.isSafeInteger(version));
  assert.deepEqual(put.attributeValues.owner, { S: 'alice-sub' });
  assert.deepEqual(put.attributeValues.gsi1pk, { S: 'OWNER#alice-sub' });
  assert.deepEqual(put.attributeValues.status, { S: 'ACTIVE' });
  const listing = putListing.response({ ...c, result: { keys: [] } });
  assert.equal(listing.version, String(version));
  assert.equal(listing.reviews, null);
});

test('putListing: a retry with the same content is idempotent; other content is AlreadyExistsError', () => {
  as(USER);
  const c = ctx({ stash: { input: { ...LISTING_INPUT, id: 'l1' }, actor: { backend: false, id: 'alice-sub' } } });
  putListing.request(c);
  const same = putListing.response({ ...c, ...cancelled(STORED) });
  assert.equal(same.version, String(STORED.version));
  const error = throwsAppSync(
    () => putListing.response({ ...c, ...cancelled({ ...STORED, title: 'Other' }) }),
    'AlreadyExistsError',
  );
  assert.equal(error.errorInfo.currentVersion, String(STORED.version));
  throwsAppSync(
    () => putListing.response({ ...c, error: { type: 'DynamoDB:ProvisionedThroughputExceededException', message: 'slow down' } }),
    'DynamoDB:ProvisionedThroughputExceededException',
  );
});

test('loadListingForWrite reads consistently and checks existence, owner and version', () => {
  as(USER);
  const args = { input: { id: 'l1', expectedVersion: String(STORED.version) } };
  assert.deepEqual(loadListingForWrite.request(ctx({ args })), {
    operation: 'GetItem',
    key: { pk: { S: 'LISTING#l1' }, sk: { S: 'LISTING' } },
    consistentRead: true,
  });
  throwsAppSync(() => loadListingForWrite.request(ctx({ args: { input: { id: 'l1', expectedVersion: '1.5' } } })), 'ValidationError');
  throwsAppSync(() => loadListingForWrite.response(ctx({ args, result: null })), 'NotFoundError');
  throwsAppSync(
    () => loadListingForWrite.response(ctx({ args, result: STORED, identity: { sub: 'mallory' } })),
    'UnauthorizedError',
  );
  const stale = { input: { id: 'l1', expectedVersion: '5' } };
  const conflict = throwsAppSync(() => loadListingForWrite.response(ctx({ args: stale, result: STORED })), 'ConflictError');
  assert.equal(conflict.errorInfo.currentVersion, String(STORED.version));
  assert.match(conflict.message, new RegExp(String(STORED.version)));
  const c = ctx({ args, result: STORED });
  loadListingForWrite.response(c);
  assert.equal(c.stash.current, STORED);
  as(IAM);
  loadListingForWrite.response(ctx({ args, result: STORED, identity: {} }));
});

test('updateListingItem: version is max(expected + 1, now * 1000), written on condition version = expected', () => {
  as(USER);
  const input = { id: 'l1', expectedVersion: String(STORED.version), title: 'New title', location: { lat: 1, lon: 2 } };
  const c = ctx({ stash: { input, current: STORED } });
  const request = updateListingItem.request(c);
  const [put] = request.transactItems;
  assert.equal(put.operation, 'PutItem');
  assert.deepEqual(put.key, { pk: { S: 'LISTING#l1' }, sk: { S: 'LISTING' } });
  assert.equal(put.attributeValues.pk, undefined, 'keys travel in `key` only');
  assert.deepEqual(put.attributeValues.title, { S: 'New title' });
  assert.deepEqual(put.attributeValues.city, { S: 'Berlin' }, 'unchanged fields are kept');
  assert.deepEqual(put.attributeValues.location, { M: { lat: { N: 1 }, lon: { N: 2 } } });
  assert.equal(put.condition.expression, '#version = :expected');
  assert.deepEqual(put.condition.expressionValues, { ':expected': { N: STORED.version } });
  assert.ok(put.attributeValues.version.N >= Date.now() * 1000 - 5e6);

  const future = Date.now() * 1000 + 5e9; // a version from a clock ahead of ours
  const ahead = ctx({ stash: { input: { ...input, expectedVersion: String(future) }, current: { ...STORED, version: future } } });
  assert.equal(updateListingItem.request(ahead).transactItems[0].attributeValues.version.N, future + 1);

  const listing = updateListingItem.response({ ...c, result: { keys: [] } });
  assert.equal(listing.title, 'New title');
  assert.equal(listing.version, String(c.stash.item.version));
});

test('updateListingItem and deleteListingItem turn a lost race into typed errors', () => {
  as(USER);
  const input = { id: 'l1', expectedVersion: String(STORED.version) };
  const c = ctx({ stash: { input, current: STORED } });
  updateListingItem.request(c);
  const newer = { ...STORED, version: STORED.version + 7 };
  const conflict = throwsAppSync(() => updateListingItem.response({ ...c, ...cancelled(newer) }), 'ConflictError');
  assert.equal(conflict.errorInfo.currentVersion, String(newer.version));
  throwsAppSync(() => updateListingItem.response({ ...c, ...cancelled(null) }), 'NotFoundError');

  const d = ctx({ stash: { current: STORED } });
  const request = deleteListingItem.request(d);
  assert.equal(request.transactItems[0].operation, 'DeleteItem');
  assert.deepEqual(request.transactItems[0].condition.expressionValues, { ':expected': { N: STORED.version } });
  assert.equal(deleteListingItem.response({ ...d, result: { keys: [] } }).version, String(STORED.version));
  throwsAppSync(() => deleteListingItem.response({ ...d, ...cancelled(newer) }), 'ConflictError');
  throwsAppSync(() => deleteListingItem.response({ ...d, ...cancelled(null) }), 'NotFoundError');
  const throttled = { error: { type: 'DynamoDB:ThrottlingException', message: 'slow down' }, result: null };
  throwsAppSync(() => updateListingItem.response({ ...c, ...throttled }), 'DynamoDB:ThrottlingException');
  throwsAppSync(() => updateListingItem.response({ ...c, ...TRANSACTION_CONFLICT }), 'DynamoDB:TransactionCanceledException');
  throwsAppSync(() => deleteListingItem.response({ ...d, ...throttled }), 'DynamoDB:ThrottlingException');
});

test('loadListingReviewKeys: one consistent keys-only query of the listing\'s reviews, at most 99', () => {
  const c = ctx({ stash: { current: STORED } });
  assert.deepEqual(loadListingReviewKeys.request(c), {
    operation: 'Query',
    query: {
      expression: '#pk = :pk AND begins_with(#sk, :review)',
      expressionNames: { '#pk': 'pk', '#sk': 'sk' },
      expressionValues: { ':pk': { S: 'LISTING#l1' }, ':review': { S: 'REVIEW#' } },
    },
    projection: { expression: '#pk, #sk', expressionNames: { '#pk': 'pk', '#sk': 'sk' } },
    consistentRead: true,
    limit: 99,
  });
  const reviews = (n) => Array.from({ length: n }, (_, i) => ({ pk: 'LISTING#l1', sk: `REVIEW#r${i}` }));
  assert.deepEqual(loadListingReviewKeys.response({ ...c, result: { items: reviews(99), nextToken: null } }), reviews(99));
  assert.deepEqual(c.stash.reviewKeys, reviews(99));
  // More reviews than one transaction holds no longer refuse the delete: the first 99 go with the listing,
  // the review cascade (projector/cascade.py) deletes the rest from the listing's REMOVE record.
  const more = ctx({ stash: { current: STORED } });
  assert.deepEqual(loadListingReviewKeys.response({ ...more, result: { items: reviews(99), nextToken: 'more' } }), reviews(99));
  throwsAppSync(
    () => loadListingReviewKeys.response({ ...c, error: { type: 'DynamoDB:AccessDeniedException', message: 'no' }, result: null }),
    'DynamoDB:AccessDeniedException',
  );
});

test('deleteListingItem: the listing (conditional) and its reviews (unconditional) in one transaction', () => {
  as(USER);
  const reviewKeys = [{ pk: 'LISTING#l1', sk: 'REVIEW#a' }, { pk: 'LISTING#l1', sk: 'REVIEW#b' }];
  const d = ctx({ stash: { current: STORED, reviewKeys } });
  const { operation, transactItems } = deleteListingItem.request(d);
  assert.equal(operation, 'TransactWriteItems');
  assert.deepEqual(transactItems.map((item) => [item.table, item.operation, item.key.sk.S, Boolean(item.condition)]), [
    [TABLE, 'DeleteItem', 'LISTING', true],
    [TABLE, 'DeleteItem', 'REVIEW#a', false],
    [TABLE, 'DeleteItem', 'REVIEW#b', false],
  ]);
  assert.equal(deleteListingItem.request(ctx({ stash: { current: STORED, reviewKeys: [] } })).transactItems.length, 1);
  // Decided by the listing reason's type: a conflict between transactions is no NotFoundError.
  const raced = {
    error: { type: 'DynamoDB:TransactionCanceledException', message: 'Transaction cancelled [TransactionConflict]' },
    result: { keys: null, cancellationReasons: [{ type: 'TransactionConflict', message: 'conflict' }, { type: 'None' }, { type: 'None' }] },
  };
  throwsAppSync(() => deleteListingItem.response({ ...d, ...raced }), 'DynamoDB:TransactionCanceledException');
  throwsAppSync(() => deleteListingItem.response({ ...d, ...cancelled(null, undefined, undefined) }), 'NotFoundError');
  const newer = { ...STORED, version: STORED.version + 1 };
  const conflict = throwsAppSync(() => deleteListingItem.response({ ...d, ...cancelled(newer, undefined, undefined) }), 'ConflictError');
  assert.equal(conflict.errorInfo.currentVersion, String(newer.version));
});

test('reviews: validation, author, listing-exists check, idempotent retry', () => {
  as(USER);
  const input = { listingId: 'l1', rating: 5, text: 'Great' };
  const v = ctx({ args: { input }, fieldName: 'addReview' });
  validateReviewInput.request(v);
  assert.equal(v.stash.author, 'alice-sub');
  // One review per author per listing: the id is derived from both.
  assert.equal(v.stash.reviewId, 'l1.alice-sub');
  validateReviewInput.request(ctx({ args: { input: { ...input, id: 'l1.alice-sub' } } }));
  const chosen = throwsAppSync(() => validateReviewInput.request(ctx({ args: { input: { ...input, id: 'r1' } } })), 'ValidationError');
  assert.match(chosen.errorInfo.problems[0], /must be absent or l1\.alice-sub/);
  const bad = throwsAppSync(
    () => validateReviewInput.request(ctx({ args: { input: { listingId: 'l 1', rating: 6, text: ' ' } } })),
    'ValidationError',
  );
  assert.equal(bad.errorInfo.problems.length, 3);
  throwsAppSync(() => validateReviewInput.request(ctx({ args: { input: { ...input, author: 'bob' } } })), 'UnauthorizedError');
  as(IAM);
  const spaced = throwsAppSync(
    () => validateReviewInput.request(ctx({ args: { input: { ...input, author: 'bob smith' } } })),
    'ValidationError',
  );
  assert.match(spaced.errorInfo.problems[0], /printable ASCII/);
  as(USER);

  const c = ctx({ stash: { input, author: 'alice-sub', reviewId: 'l1.alice-sub' } });
  const request = putReview.request(c);
  assert.deepEqual(
    request.transactItems.map((item) => item.operation),
    ['ConditionCheck', 'PutItem'],
  );
  // The author is the sort key: a second review by the same author meets the attribute_not_exists condition.
  assert.deepEqual(request.transactItems[1].key, { pk: { S: 'LISTING#l1' }, sk: { S: 'REVIEW#alice-sub' } });
  assert.equal(c.stash.item.id, 'l1.alice-sub');
  throwsAppSync(() => putReview.response({ ...c, ...cancelled(null, undefined) }), 'NotFoundError');
  const stored = { ...c.stash.item, version: 42 };
  assert.equal(putReview.response({ ...c, ...cancelled(undefined, stored) }).version, '42');
  const twice = throwsAppSync(
    () => putReview.response({ ...c, ...cancelled(undefined, { ...stored, text: 'Other' }) }),
    'AlreadyExistsError',
    /one review per author per listing/,
  );
  assert.deepEqual(twice.errorInfo, { id: 'l1.alice-sub', currentVersion: '42' });
  // Regression: decided by each reason's type, not by whether an item came back. A review left under a
  // missing listing is no idempotent success, and a conflict without an item is no missing listing.
  throwsAppSync(() => putReview.response({ ...c, ...cancelled(null, stored) }), 'NotFoundError');
  const conflicted = {
    error: { type: 'DynamoDB:TransactionCanceledException', message: 'Transaction cancelled [None, TransactionConflict]' },
    result: { keys: null, cancellationReasons: [{ type: 'None' }, { type: 'TransactionConflict', message: 'conflict' }] },
  };
  throwsAppSync(() => putReview.response({ ...c, ...conflicted }), 'DynamoDB:TransactionCanceledException');
  throwsAppSync(() => putReview.response({ ...c, error: { type: 'DynamoDB:ThrottlingException', message: 'slow' }, result: null }), 'DynamoDB:ThrottlingException');
});

test('deleting a review: its author or the listing owner, version checked, returned as it was', () => {
  as(USER);
  const review = { pk: 'LISTING#l1', sk: 'REVIEW#alice-sub', id: 'l1.alice-sub', listingId: 'l1', author: 'alice-sub', rating: 4, text: 'ok', version: 9 };
  const args = { input: { listingId: 'l1', id: 'l1.alice-sub', expectedVersion: '9' } };
  // The id names the key: listing id, then (after the first '.') the author, who may hold dots too.
  assert.deepEqual(loadReviewForWrite.request(ctx({ args })).key, { pk: { S: 'LISTING#l1' }, sk: { S: 'REVIEW#alice-sub' } });
  const dotted = { input: { listingId: 'l1', id: 'l1.a.b', expectedVersion: '9' } };
  assert.deepEqual(loadReviewForWrite.request(ctx({ args: dotted })).key.sk, { S: 'REVIEW#a.b' });
  for (const id of ['l2.alice-sub', 'l1.', 'l1alice', 'l10.alice']) {
    throwsAppSync(() => loadReviewForWrite.request(ctx({ args: { input: { ...args.input, id } } })), 'NotFoundError');
  }
  throwsAppSync(() => loadReviewForWrite.response(ctx({ args, result: null })), 'NotFoundError');
  const c = ctx({ args, result: review });
  loadReviewForWrite.response(c);
  assert.deepEqual(c.stash.current, review);

  // Who: the author, the listing's owner, a backend; nobody else (checked before the version).
  const owner = { owner: 'olga-sub' };
  const authorize = (identity, result, input = args.input) =>
    authorizeReviewDelete.response(ctx({ args: { input }, stash: { current: review }, identity, result }));
  assert.deepEqual(authorizeReviewDelete.request(ctx({ stash: { current: review } })), {
    operation: 'GetItem',
    key: { pk: { S: 'LISTING#l1' }, sk: { S: 'LISTING' } },
    consistentRead: true,
    projection: { expression: '#owner', expressionNames: { '#owner': 'owner' } },
  });
  assert.equal(authorize(ALICE, owner).version, 9);
  assert.equal(authorize({ sub: 'olga-sub' }, owner).version, 9);
  const stranger = throwsAppSync(() => authorize({ sub: 'bob' }, owner, { ...args.input, expectedVersion: '8' }), 'UnauthorizedError');
  assert.match(stranger.message, /author or the listing's owner/);
  throwsAppSync(() => authorize({ sub: 'olga-sub' }, null), 'UnauthorizedError'); // listing gone: no owner
  assert.equal(authorize(ALICE, null).version, 9);
  throwsAppSync(() => authorize({ sub: 'olga-sub' }, owner, { ...args.input, expectedVersion: '8' }), 'ConflictError');
  as(IAM);
  assert.equal(authorize({ userArn: 'arn:aws:sts::1:assumed-role/ops/x' }, owner).version, 9);
  as(USER);
  throwsAppSync(
    () => authorizeReviewDelete.response(ctx({ args, stash: { current: review }, error: { type: 'DynamoDB:AccessDeniedException', message: 'no' } })),
    'DynamoDB:AccessDeniedException',
  );
  const d = ctx({ stash: { current: c.stash.current } });
  assert.equal(deleteReviewItem.request(d).transactItems[0].operation, 'DeleteItem');
  assert.equal(deleteReviewItem.response({ ...d, result: {} }).version, '9');
  throwsAppSync(() => deleteReviewItem.response({ ...d, ...cancelled({ ...review, version: 10 }) }), 'ConflictError');
  throwsAppSync(() => deleteReviewItem.response({ ...d, ...cancelled(null) }), 'NotFoundError');
  throwsAppSync(() => deleteReviewItem.response({ ...d, ...TRANSACTION_CONFLICT }), 'DynamoDB:TransactionCanceledException');
});

test('getListing: one consistent read of the listing alone, or null', () => {
  const request = getListing.request(ctx({ args: { id: 'l1' } }));
  assert.deepEqual(request, {
    operation: 'GetItem',
    key: { pk: { S: 'LISTING#l1' }, sk: { S: 'LISTING' } },
    consistentRead: true,
  });
  const listing = getListing.response(ctx({ result: STORED }));
  assert.equal(listing.id, 'l1');
  assert.equal(listing.version, String(STORED.version));
  assert.equal('reviews' in listing, false); // the Listing.reviews resolver pages them
  assert.equal(getListing.response(ctx({ result: null })), null);
  throwsAppSync(() => getListing.response(ctx({ error: { type: 'DynamoDB:AccessDeniedException', message: 'no' } })), 'DynamoDB:AccessDeniedException');
});

test('Listing.reviews: one bounded, consistent page of the parent listing\'s reviews', () => {
  const page = (args) => ({ ...ctx({ args }), source: { id: 'l1' } });
  assert.deepEqual(listingReviews.request(page({})), {
    operation: 'Query',
    query: {
      expression: '#pk = :pk AND begins_with(#sk, :review)',
      expressionNames: { '#pk': 'pk', '#sk': 'sk' },
      expressionValues: { ':pk': { S: 'LISTING#l1' }, ':review': { S: 'REVIEW#' } },
    },
    consistentRead: true,
    limit: 20,
  });
  const next = listingReviews.request(page({ limit: 100, nextToken: 'tok' }));
  assert.equal(next.limit, 100);
  assert.equal(next.nextToken, 'tok');
  for (const limit of [0, 101, -1]) {
    throwsAppSync(() => listingReviews.request(page({ limit })), 'ValidationError', /limit must be from 1 to 100/);
  }
  const review = { pk: 'LISTING#l1', sk: 'REVIEW#bo', type: 'Review', id: 'l1.bo', version: 3 };
  assert.deepEqual(listingReviews.response({ ...page({}), result: { items: [review], nextToken: 'n2' } }), {
    items: [{ ...review, version: '3' }],
    nextToken: 'n2',
  });
  assert.equal(listingReviews.response({ ...page({}), result: { items: [], nextToken: undefined } }).nextToken, null);
  const refused = { type: 'DynamoDB:ValidationException', message: 'The provided starting key is invalid' };
  throwsAppSync(() => listingReviews.response({ ...page({ nextToken: 'forged' }), error: refused }), 'ValidationError', /nextToken/);
  throwsAppSync(() => listingReviews.response({ ...page({}), error: { type: 'DynamoDB:AccessDeniedException', message: 'no' } }), 'DynamoDB:AccessDeniedException');
});

function searchRequest(args) {
  const c = ctx({ args });
  return [searchListings.request(c), c];
}

test('searchListings: user text is only a multi_match value, never query DSL', () => {
  const text = 'title:x OR {"match_all": {}} AND *';
  const [request] = searchRequest({ query: text });
  assert.equal(request.path, `/${LISTINGS_READ_ALIAS}/_search`);
  assert.deepEqual(request.params.body.query.bool.must, [
    { multi_match: { query: text, fields: ['title^3', 'description', 'tags', 'city'], operator: 'and' } },
  ]);
  assert.deepEqual(request.params.body.sort, [{ _score: { order: 'desc' } }, { id: { order: 'asc' } }]);
  assert.equal(request.params.body.size, 21);
});

test('searchListings: filters, geo radius and every sort end with the id tiebreaker', () => {
  const near = { lat: 52.5, lon: 13.4, radiusKm: 10 };
  const filter = { categories: ['HOUSE'], tags: ['a', 'b'], minPrice: 10, maxPrice: 20, statuses: ['ACTIVE'], owner: 'o', city: 'Berlin' };
  const [request] = searchRequest({ filter, near, sort: 'DISTANCE', limit: 5 });
  const body = request.params.body;
  assert.deepEqual(body.query.bool.filter, [
    { terms: { category: ['HOUSE'] } },
    { terms: { status: ['ACTIVE'] } },
    { term: { tags: 'a' } },
    { term: { tags: 'b' } },
    { term: { owner: 'o' } },
    { term: { city: 'Berlin' } },
    { range: { price: { gte: 10, lte: 20 } } },
    { geo_distance: { distance: '10km', location: { lat: 52.5, lon: 13.4 } } },
  ]);
  assert.deepEqual(body.sort[0], { _geo_distance: { location: { lat: 52.5, lon: 13.4 }, order: 'asc', unit: 'km' } });
  assert.equal(body.size, 6);
  for (const sort of ['PRICE_ASC', 'PRICE_DESC', 'NEWEST', 'RELEVANCE']) {
    const [r] = searchRequest({ sort });
    assert.deepEqual(r.params.body.sort.at(-1), { id: { order: 'asc' } });
  }
  assert.deepEqual(searchRequest({})[0].params.body.sort[0], { createdAt: { order: 'desc' } }, 'no text: newest first');
});

test('searchListings: bad arguments are ValidationErrors', () => {
  for (const args of [
    { limit: 0 },
    { limit: 101 },
    { sort: 'DISTANCE' },
    { near: { lat: 100, lon: 0, radiusKm: 1 } },
    { near: { lat: 0, lon: 0, radiusKm: 0 } },
    { filter: { minPrice: 5, maxPrice: 1 } },
    { filter: { tags: Array.from({ length: 21 }, (_, n) => `t${n}`) } },
    { filter: { tags: ['x'.repeat(41)] } },
    { filter: { categories: Array.from({ length: 7 }, () => 'HOUSE') } },
    { filter: { city: 'c'.repeat(101) } },
    { query: 'x'.repeat(201) },
    { nextToken: 'not base64!' },
    { nextToken: Buffer.from('{"match_all":{}}').toString('base64') },
    { nextToken: Buffer.from('NEWEST|1|a b').toString('base64') },
    // Non-finite sort values: they fit the token's shape, but OpenSearch cannot take them back.
    { sort: 'PRICE_ASC', nextToken: Buffer.from('PRICE_ASC|1e999|l1').toString('base64') },
    { sort: 'PRICE_DESC', nextToken: Buffer.from('PRICE_DESC|-1e400|l1').toString('base64') },
  ]) {
    throwsAppSync(() => searchRequest(args), 'ValidationError');
  }
  const token = Buffer.from('PRICE_ASC|10|l1').toString('base64');
  throwsAppSync(() => searchRequest({ sort: 'NEWEST', nextToken: token }), 'ValidationError', /sorted by PRICE_ASC/);
  assert.deepEqual(searchRequest({ sort: 'PRICE_ASC', nextToken: token })[0].params.body.search_after, [10, 'l1']);
});

function hit(id, sort, extra = {}) {
  return { _id: id, _source: { ...STORED, id, ...extra }, sort };
}

const AGGS = {
  categories: { buckets: [{ key: 'APARTMENT', doc_count: 3 }] },
  priceRanges: { buckets: [{ to: 100, doc_count: 1 }, { from: 100, doc_count: 2 }] },
};

test('searchListings response: page, opaque nextToken, facets, distance', () => {
  const near = { lat: 52.52, lon: 13.405, radiusKm: 50 };
  const [, c] = searchRequest({ sort: 'PRICE_ASC', limit: 2, near });
  const result = {
    hits: { total: { value: 3 }, hits: [hit('a', [1, 'a']), hit('b', [2, 'b'], { location: { lat: 52.3906, lon: 13.0645 } }), hit('c', [3, 'c'])] },
    aggregations: AGGS,
  };
  const page = searchListings.response({ ...c, result });
  assert.deepEqual(page.items.map((i) => i.id), ['a', 'b']);
  assert.equal(page.total, 3);
  assert.equal(Buffer.from(page.nextToken, 'base64').toString(), 'PRICE_ASC|2|b');
  assert.equal(page.items[0].distanceKm, 0);
  assert.ok(Math.abs(page.items[1].distanceKm - 26.9) < 0.5, `Berlin → Potsdam is ~27 km, got ${page.items[1].distanceKm}`);
  assert.deepEqual(page.facets, {
    categories: [{ key: 'APARTMENT', count: 3 }],
    priceRanges: [
      { from: null, to: 100, count: 1 },
      { from: 100, to: null, count: 2 },
    ],
  });
  const [, next] = searchRequest({ sort: 'PRICE_ASC', limit: 2, nextToken: page.nextToken });
  const last = searchListings.response({ ...next, result: { hits: { total: { value: 3 }, hits: [hit('c', [3, 'c'])] }, aggregations: AGGS } });
  assert.equal(last.nextToken, null);
  // Whatever OpenSearch said (its text can quote queries, index names, the domain's ARN), the caller gets
  // a typed, generic error.
  const secret = 'index [listings-v3] no such index; arn:aws:es:eu-west-1:111122223333:domain/cqrs-prod';
  for (const type of ['OpenSearch:404', 'OpenSearch:403', 'OpenSearch:500', 'OpenSearch:Unreachable']) {
    const error = throwsAppSync(
      () => searchListings.response({ ...c, error: { type, message: secret }, result: { error: { reason: secret } } }),
      'SearchUnavailableError',
    );
    assert.equal(error.message, 'Search is unavailable; try again later');
    assert.equal(error.data, null);
    assert.equal(error.errorInfo, null);
  }
});

test('listingsByOwner: newest first from the byOwner index, with limits and typed token errors', () => {
  const request = listingsByOwner.request(ctx({ args: { owner: 'alice-sub', limit: 2, nextToken: 'abc' } }));
  assert.deepEqual(request, {
    operation: 'Query',
    index: 'byOwner',
    query: { expression: 'gsi1pk = :owner', expressionValues: { ':owner': { S: 'OWNER#alice-sub' } } },
    scanIndexForward: false,
    limit: 2,
    nextToken: 'abc',
  });
  assert.equal(listingsByOwner.request(ctx({ args: { owner: 'o' } })).limit, 20);
  assert.equal(listingsByOwner.request(ctx({ args: { owner: 'o' } })).nextToken, undefined);
  const bad = throwsAppSync(() => listingsByOwner.request(ctx({ args: { owner: '', limit: 101 } })), 'ValidationError');
  assert.equal(bad.errorInfo.problems.length, 2);
  const page = listingsByOwner.response(ctx({ args: { owner: 'o' }, result: { items: [STORED], nextToken: 'next' } }));
  assert.deepEqual([page.items[0].version, page.nextToken], [String(STORED.version), 'next']);
  assert.equal(listingsByOwner.response(ctx({ args: { owner: 'o' }, result: { items: [] } })).nextToken, null);
  const invalid = { type: 'DynamoDB:ValidationException', message: 'Invalid token' };
  throwsAppSync(() => listingsByOwner.response(ctx({ args: { owner: 'o', nextToken: 'x' }, error: invalid })), 'ValidationError');
  throwsAppSync(() => listingsByOwner.response(ctx({ args: { owner: 'o' }, error: invalid })), 'DynamoDB:ValidationException');
});
