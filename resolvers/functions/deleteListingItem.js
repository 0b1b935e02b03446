/**
 * Deletes the listing (commands data source) on the condition that it is still at the version read by
 * loadListingForWrite; returns the listing as it was when deleted. The REMOVE stream record's old image
 * carries that version, and the projector tombstones the document one version above it.
 */
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  const { current } = ctx.stash;
  return {
    operation: 'TransactWriteItems',
    transactItems: [
      {
        table: ctx.env.TABLE_NAME,
        operation: 'DeleteItem',
        key: util.dynamodb.toMapValues({ pk: current.pk, sk: current.sk }),
        condition: {
          expression: '#version = :expected',
          expressionNames: { '#version': 'version' },
          expressionValues: util.dynamodb.toMapValues({ ':expected': current.version }),
          returnValuesOnConditionCheckFailure: true,
        },
      },
    ],
  };
}

export function response(ctx) {
  const { current } = ctx.stash;
  if (ctx.error) {
    const reasons = (ctx.result && ctx.result.cancellationReasons) || [];
    const stored = reasons.length > 0 ? reasons[0].item : null;
    // A failed condition shows as cancellation reasons; the item is missing when it was deleted meanwhile.
    if (reasons.length > 0 && !stored) {
      util.error(`Listing ${current.id} was deleted meanwhile`, 'NotFoundError', null, { id: current.id });
    }
    if (stored) {
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
