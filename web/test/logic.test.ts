// The page's pure logic: config checks, error classification, and when search reflects a write.
import { describe, expect, test } from 'vitest';
import { ApiError, type Listing, toApiError } from '../src/api';
import { ConfigError, parseConfig } from '../src/config';
import { SignalBox, covers, reflects } from '../src/sync';

const listing = (id: string, version: string): Listing => ({
  id,
  version,
  title: 'Loft',
  description: null,
  category: 'STUDIO',
  tags: [],
  price: 1,
  currency: 'EUR',
  location: { lat: 0, lon: 0 },
  city: 'Berlin',
  owner: 'alice',
  status: 'ACTIVE',
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
});

describe('reflects', () => {
  test('a version is reflected once search has it or a later one, compared as integers', () => {
    const target = { kind: 'version' as const, listing: listing('a', '1000') };
    expect(reflects([listing('a', '999')], target)).toBe(false); // as strings, "999" > "1000"
    expect(reflects([listing('a', '1000')], target)).toBe(true);
    expect(reflects([listing('a', '1001')], target)).toBe(true);
    expect(reflects([listing('b', '5000')], target)).toBe(false);
  });

  test('a deletion is reflected once search no longer returns the listing', () => {
    const target = { kind: 'deleted' as const, listing: listing('a', '7') };
    expect(reflects([listing('a', '7')], target)).toBe(false);
    expect(reflects([listing('b', '7')], target)).toBe(true);
    expect(reflects([], target)).toBe(true);
  });
});

describe('toApiError', () => {
  test("AppSync's errorType is kept", () => {
    const error = toApiError({ data: null, errors: [{ errorType: 'ConflictError', message: 'at version 9' }] });
    expect(error).toBeInstanceOf(ApiError);
    expect([error.errorType, error.message]).toEqual(['ConflictError', 'at version 9']);
  });

  test("a failed request (Amplify's originalError) is a NetworkError", () => {
    const failure = {
      data: {},
      errors: [{ message: 'A network error has occurred.', originalError: { name: 'NetworkError', message: 'x' } }],
    };
    expect(toApiError(failure).errorType).toBe('NetworkError');
  });

  test('plain errors keep their name; anything else becomes Error', () => {
    const noUser = Object.assign(new Error('No current user'), { name: 'NoValidAuthTokens' });
    expect(toApiError(noUser).errorType).toBe('NoValidAuthTokens');
    expect(toApiError('boom')).toMatchObject({ errorType: 'Error', message: 'boom' });
  });
});

describe('parseConfig', () => {
  const local = {
    graphql_url: 'http://127.0.0.1:1/graphql',
    region: 'us-east-1',
    auth: { api_key: 'k', user_pool_id: null, user_pool_client_id: null, iam: true },
    local_users: { alice: 'token' },
  };

  test('a local stack config and a Cognito config are accepted', () => {
    expect(parseConfig(local).local_users).toEqual({ alice: 'token' });
    const cognito = { ...local, local_users: undefined, auth: { ...local.auth, user_pool_id: 'p', user_pool_client_id: 'c' } };
    expect(parseConfig(cognito).auth.user_pool_id).toBe('p');
  });

  test.each([
    [{ ...local, graphql_url: '' }, /"graphql_url" must be a non-empty string/],
    [{ ...local, local_users: { alice: 3 } }, /"local_users.alice" must be a non-empty string/],
    [{ ...local, local_users: undefined }, /needs either local_users .* or auth.user_pool_id/],
    [{ ...local, search_catch_up_s: 0 }, /"search_catch_up_s" must be a positive number/],
    [[], /"graphql_url" must be/],
    [null, /expected a JSON object/],
  ])('%# rejects bad config by name', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });
});

describe('projection signals', () => {
  const signal = (id: string, version: string, deleted = false) => ({
    id,
    owner: 'alice',
    version,
    deleted,
    projectedAt: '2026-12-05T10:00:00.000Z',
  });

  test("a signal covers a write at the write's version or a newer one, as integers", () => {
    const target = { kind: 'version' as const, listing: listing('a', '1000') };
    expect(covers(signal('a', '999'), target)).toBe(false);
    expect(covers(signal('a', '1000'), target)).toBe(true);
    expect(covers(signal('b', '2000'), target)).toBe(false);
    const deletion = { kind: 'deleted' as const, listing: listing('a', '7') };
    expect(covers(signal('a', '7'), deletion)).toBe(false); // an index, not the delete
    expect(covers(signal('a', '7', true), deletion)).toBe(true);
  });

  test('a signal that arrived before the wait began still counts; none in time gives null', async () => {
    const box = new SignalBox();
    const target = { kind: 'version' as const, listing: listing('a', '2') };
    box.push(signal('a', '2'));
    expect(await box.wait(target, 10)).toEqual(signal('a', '2'));
    box.reset();
    expect(await box.wait(target, 10)).toBeNull();
    const later = box.wait(target, 1000);
    box.push(signal('a', '1'));
    box.push(signal('a', '3'));
    expect((await later)?.version).toBe('3');
  });
});
