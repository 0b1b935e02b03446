/**
 * Writes the updated listing (commands data source) as a whole item, on the condition that it is still
 * at the version read by loadListingForWrite, so a concurrent writer turns into a ConflictError naming
 * the version it wrote (the transaction returns the item that failed the condition).
 * Version scheme (docs/design.md §3): max(expected + 1, nowEpochMillis * 1000).
 */
import { util } from '@aws-appsync/utils';

const FIELDS = ['title', 'description', 'category', 'tags', 'price', 'currency', 'city', 'status'];

export function request(ctx) {
  const { input, current } = ctx.stash;
  const expected = Number(input.expectedVersion);
  const item = { ...current };
  FIELDS.forEach((name) => {
    if (input[name] !== undefined && input[name] !== null) {
      item[name] = input[name];
    }
  });
  if (input.location) {
    item.location = { lat: input.location.lat, lon: input.location.lon };
  }
  item.updatedAt = util.time.nowISO8601();
  item.version = Math.max(expected + 1, util.time.nowEpochMilliSeconds() * 1000);
  const { pk, sk, ...attributes } = item;
  ctx.stash.item = item;
  return {
    operation: 'TransactWriteItems',
    transactItems: [
      {
        table: ctx.env.TABLE_NAME,
        operation: 'PutItem',
        key: util.dynamodb.toMapValues({ pk, sk }),
        attributeValues: util.dynamodb.toMapValues(attributes),
        condition: {
          expression: '#version = :expected',
          expressionNames: { '#version': 'version' },
          expressionValues: util.dynamodb.toMapValues({ ':expected': expected }),
          returnValuesOnConditionCheckFailure: true,
        },
      },
    ],
  };
}

export function response(ctx) {
  const { id, expectedVersion } = ctx.stash.input;
  if (ctx.error) {
    const reasons = (ctx.result && ctx.result.cancellationReasons) || [];
    // The reason's type says the condition failed; the returned item is missing when it was deleted meanwhile.
    if (reasons.length > 0 && reasons[0].type === 'ConditionalCheckFailed') {
      const stored = reasons[0].item;
      if (!stored) {
        util.error(`Listing ${id} was deleted meanwhile`, 'NotFoundError', null, { id });
      }
      util.error(
        `Listing ${id} is at version ${stored.version}, not ${expectedVersion}: reload it and retry`,
        'ConflictError',
        null,
        { id, currentVersion: `${stored.version}`, expectedVersion },
      );
    }
    util.error(ctx.error.message, ctx.error.type);
  }
  const item = ctx.stash.item;
  return { ...item, version: `${item.version}`, reviews: null, distanceKm: null };
}
