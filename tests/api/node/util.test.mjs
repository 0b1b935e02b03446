// The local runtime's `util` against values from the AWS AppSync documentation
// (resolver utility reference: util.dynamodb, util.time, util.autoId...).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { extensions, runtime, util } from '@aws-appsync/utils';
import * as ddb from '@aws-appsync/utils/dynamodb';

test('util.dynamodb.toMapValues matches the documented example', () => {
  assert.deepEqual(util.dynamodb.toMapValues({ foo: 'bar', baz: 1234, beep: ['boop'] }), {
    foo: { S: 'bar' },
    baz: { N: 1234 },
    beep: { L: [{ S: 'boop' }] },
  });
});

test('util.dynamodb scalar and collection helpers match the documented shapes', () => {
  assert.deepEqual(util.dynamodb.toDynamoDB('foo'), { S: 'foo' });
  assert.deepEqual(util.dynamodb.toDynamoDB(12345), { N: 12345 });
  assert.deepEqual(util.dynamodb.toDynamoDB(true), { BOOL: true });
  assert.deepEqual(util.dynamodb.toNumber(12345), { N: 12345 });
  assert.deepEqual(util.dynamodb.toString('foo'), { S: 'foo' });
  assert.deepEqual(util.dynamodb.toStringSet(['foo', 'bar', 'baz']), { SS: ['foo', 'bar', 'baz'] });
  assert.deepEqual(util.dynamodb.toNumberSet([1, 23, 4.56]), { NS: [1, 23, 4.56] });
  assert.deepEqual(util.dynamodb.toBoolean(true), { BOOL: true });
  assert.deepEqual(util.dynamodb.toBinary('foo'), { B: 'foo' });
  assert.deepEqual(util.dynamodb.toNull(), { NULL: null });
  assert.deepEqual(util.dynamodb.toList(['foo', 123, { bar: 'baz' }]), {
    L: [{ S: 'foo' }, { N: 123 }, { M: { bar: { S: 'baz' } } }],
  });
  assert.deepEqual(util.dynamodb.toMap({ foo: 'bar', baz: 1234, beep: ['boop'] }), {
    M: { foo: { S: 'bar' }, baz: { N: 1234 }, beep: { L: [{ S: 'boop' }] } },
  });
});

test('util.time conversions match the documented examples', () => {
  assert.equal(util.time.epochMilliSecondsToSeconds(1517943695750), 1517943695);
  assert.equal(util.time.epochMilliSecondsToISO8601(1517943695750), '2018-02-06T19:01:35.750Z');
  assert.equal(util.time.epochMilliSecondsToFormatted(1517943695750, 'yyyy-MM-dd HH:mm:ssZ'), '2018-02-06 19:01:35+0000');
  assert.equal(util.time.parseISO8601ToEpochMilliSeconds('2018-02-01T17:21:05.180+08:00'), 1517476865180);
  assert.throws(() => util.time.parseISO8601ToEpochMilliSeconds('not a date'), /ISO-8601/);
  assert.throws(() => util.time.nowFormatted('yyyy', 'Europe/Berlin'), /UTC only/);
});

test('util.time.now* agree with the clock and the ISO-8601 shape', () => {
  const before = Date.now();
  const millis = util.time.nowEpochMilliSeconds();
  assert.ok(millis >= before && millis <= Date.now());
  assert.match(util.time.nowISO8601(), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  assert.equal(util.time.nowEpochSeconds(), Math.floor(Date.now() / 1000));
  assert.match(util.time.nowFormatted("yyyy-MM-dd'T'HH:mm"), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
});

test('util.autoId is a UUID v4; autoUlid and autoKsuid have their documented formats', () => {
  const ids = new Set(Array.from({ length: 50 }, () => util.autoId()));
  assert.equal(ids.size, 50);
  for (const id of ids) {
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  }
  assert.match(util.autoUlid(), /^[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.match(util.autoKsuid(), /^[0-9A-Za-z]{27}$/);
});

test('util string, encoding and type helpers', () => {
  assert.equal(util.base64Encode('Hello, World!'), 'SGVsbG8sIFdvcmxkIQ==');
  assert.equal(util.base64Decode('SGVsbG8sIFdvcmxkIQ=='), 'Hello, World!');
  assert.equal(util.urlEncode('a b&c=d/é'), 'a+b%26c%3Dd%2F%C3%A9');
  assert.equal(util.urlDecode('a+b%26c%3Dd%2F%C3%A9'), 'a b&c=d/é');
  assert.equal(util.matches('[a-z]+', 'abc'), true);
  assert.equal(util.matches('[a-z]+', 'abc1'), false, 'matches is a whole-string match, like Java');
  assert.equal(util.isNullOrEmpty(''), true);
  assert.equal(util.isNullOrBlank('  '), true);
  assert.equal(util.defaultIfNull(null, 'x'), 'x');
  assert.equal(util.typeOf([1]), 'List');
  assert.equal(util.typeOf({}), 'Map');
  assert.equal(util.typeOf(null), 'Null');
  assert.equal(util.str.toReplace('a-b-c', '-', '+'), 'a+b+c');
});

test('util.error throws with type, data and errorInfo; appendError does not throw', () => {
  assert.throws(
    () => util.error('boom', 'ConflictError', { a: 1 }, { currentVersion: '3' }),
    (error) => {
      assert.deepEqual(error.appsync, {
        message: 'boom',
        errorType: 'ConflictError',
        data: { a: 1 },
        errorInfo: { currentVersion: '3' },
      });
      return true;
    },
  );
  util.appendError('later', 'Warning');
});

test('runtime.earlyReturn ends the handler with a value', () => {
  assert.throws(() => runtime.earlyReturn({ done: true }), (error) => error.value.done === true);
});

test('anything the runtime does not implement fails loudly, naming it', () => {
  assert.throws(() => util.xml, /util\.xml is not implemented/);
  assert.throws(() => util.transform.toDynamoDBFilterExpression, /util\.transform\.toDynamoDBFilterExpression/);
  assert.throws(() => util.dynamodb.toS3Object('k', 'b', 'r'), /toS3Object is not implemented/);
  assert.throws(() => extensions.setSubscriptionFilter, /extensions\.setSubscriptionFilter is not implemented/);
  assert.throws(() => ddb.update({}), /dynamodb\.update is not implemented/);
  assert.throws(() => ddb.operations.increment, /operations\.increment is not implemented/);
});

test('@aws-appsync/utils/dynamodb helpers build the documented request objects', () => {
  assert.deepEqual(ddb.get({ key: { id: '1' }, consistentRead: true }), {
    operation: 'GetItem',
    key: { id: { S: '1' } },
    consistentRead: true,
  });
  assert.deepEqual(ddb.put({ key: { id: '1' }, item: { n: 2 } }), {
    operation: 'PutItem',
    key: { id: { S: '1' } },
    attributeValues: { n: { N: 2 } },
  });
  assert.deepEqual(ddb.query({ query: { pk: { eq: 'a' }, sk: { beginsWith: 'R#' } }, limit: 5 }), {
    operation: 'Query',
    query: {
      expression: '#k0 = :k0 AND begins_with(#k1, :k1)',
      expressionNames: { '#k0': 'pk', '#k1': 'sk' },
      expressionValues: { ':k0': { S: 'a' }, ':k1': { S: 'R#' } },
    },
    limit: 5,
  });
  assert.throws(() => ddb.put({ key: { id: '1' }, item: {}, condition: { n: { eq: 1 } } }), /condition is not implemented/);
});
