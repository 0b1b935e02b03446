/**
 * Deletes the listing and its reviews (commands data source) in one transaction, on the condition that
 * the listing is still at the version read by loadListingForWrite; returns the listing as it was when
 * deleted. The review keys come from loadListingReviewKeys; their deletes carry no condition (whatever
 * is there goes with the listing; a review deleted meanwhile is simply not there).
 * Each REMOVE stream record's old image carries the item's version, and the projector tombstones each
 * document (listing and reviews) one version above it.
 */
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  const { current, reviewKeys } = ctx.stash;
  const table = ctx.env.TABLE_NAME;
  const listing = {
    table,
    operation: 'DeleteItem',
    key: util.dynamodb.toMapValues({ pk: current.pk, sk: current.sk }),
    condition: {
      expression: '#version = :expected',
      expressionNames: { '#version': 'version' },
      expressionValues: util.dynamodb.toMapValues({ ':expected': current.version }),
      returnValuesOnConditionCheckFailure: true,
    },
  };
  const reviews = (reviewKeys || []).map((key) => ({
    table,
    operation: 'DeleteItem',
    key: util.dynamodb.toMapValues({ pk: key.pk, sk: key.sk }),
  }));
  return { operation: 'TransactWriteItems', transactItems: [listing, ...reviews] };
}

export function response(ctx) {
  const { current } = ctx.stash;
  if (ctx.error) {
    const reasons = (ctx.result && ctx.result.cancellationReasons) || [];
    // Only the listing's delete (reasons[0]) has a condition; its reason's type says whether it failed,
    // and the item it returns says whether the listing is still there (at another version) or gone.
    if (reasons.length > 0 && reasons[0].type === 'ConditionalCheckFailed') {
      const stored = reasons[0].item;
      if (!stored) {
        util.error(`Listing ${current.id} was deleted meanwhile`, 'NotFoundError', null, { id: current.id });
      }
      util.error(
        `Listing ${current.id} is at version ${stored.version}, not ${current.version}: reload it and retry`,
        'ConflictError',
        null,
        { id: current.id, currentVersion: `${stored.version}`, expectedVersion: `${current.version}` },
      );
    }
    util.error(ctx.error.message, ctx.error.type);
  }
  return { ...current, version: `${current.version}`, reviews: null, distanceKm: null };
}
