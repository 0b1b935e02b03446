/**
 * Adds a review (commands data source) in one transaction that also checks its listing exists, so a
 * review never lands under a missing listing. One review per author per listing: the key is
 * `REVIEW#<author>` and the id `<listingId>.<author>` (validateReviewInput). A retry with the same content
 * returns the stored review (idempotent, as every create); a second review by the same author with other
 * content is an AlreadyExistsError naming the stored one (delete it first to write another).
 */
import { util } from '@aws-appsync/utils';

function toReview(item) {
  return { ...item, version: `${item.version}` };
}

export function request(ctx) {
  const { input, author, reviewId } = ctx.stash;
  const id = reviewId;
  const item = {
    id,
    type: 'Review',
    listingId: input.listingId,
    rating: input.rating,
    text: input.text,
    author,
    createdAt: util.time.nowISO8601(),
    version: util.time.nowEpochMilliSeconds() * 1000,
  };
  ctx.stash.item = item;
  return {
    operation: 'TransactWriteItems',
    transactItems: [
      {
        table: ctx.env.TABLE_NAME,
        operation: 'ConditionCheck',
        key: util.dynamodb.toMapValues({ pk: `LISTING#${input.listingId}`, sk: 'LISTING' }),
        condition: { expression: 'attribute_exists(pk)' },
      },
      {
        table: ctx.env.TABLE_NAME,
        operation: 'PutItem',
        key: util.dynamodb.toMapValues({ pk: `LISTING#${input.listingId}`, sk: `REVIEW#${author}` }),
        attributeValues: util.dynamodb.toMapValues(item),
        condition: { expression: 'attribute_not_exists(pk)', returnValuesOnConditionCheckFailure: true },
      },
    ],
  };
}

export function response(ctx) {
  const wanted = ctx.stash.item;
  if (ctx.error) {
    const reasons = (ctx.result && ctx.result.cancellationReasons) || [];
    const failed = (i) => reasons.length > i && reasons[i].type === 'ConditionalCheckFailed';
    // Each reason's type says which condition failed. The listing check comes first: a review stored
    // under a missing listing (left over, or written meanwhile) must not make the add look successful.
    if (failed(0)) {
      util.error(`Listing ${wanted.listingId} does not exist`, 'NotFoundError', null, { id: wanted.listingId });
    }
    const stored = failed(1) ? reasons[1].item : null;
    if (!stored) {
      // Any other reason (TransactionConflict, throttling, validation...) is not a verdict on either item.
      util.error(ctx.error.message, ctx.error.type);
    }
    const same = ['rating', 'text', 'author'].every((name) => stored[name] === wanted[name]);
    if (same) {
      return toReview(stored);
    }
    util.error(
      `${wanted.author} already reviewed listing ${wanted.listingId} (review ${wanted.id}): one review per author per listing`,
      'AlreadyExistsError',
      null,
      { id: wanted.id, currentVersion: `${stored.version}` },
    );
  }
  return toReview(wanted);
}
