/**
 * Deletes the review (commands data source) on the condition that it is still at the version read by
 * loadReviewForWrite; returns the review as it was when deleted.
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
    // The reason's type says the condition failed; the returned item is missing when it was deleted meanwhile.
    if (reasons.length === 0 || reasons[0].type !== 'ConditionalCheckFailed') {
      util.error(ctx.error.message, ctx.error.type);
    }
    const stored = reasons[0].item;
    if (!stored) {
      util.error(`Review ${current.id} was deleted meanwhile`, 'NotFoundError', null, { id: current.id });
    }
    util.error(
      `Review ${current.id} is at version ${stored.version}, not ${current.version}: reload it and retry`,
      'ConflictError',
      null,
      { id: current.id, currentVersion: `${stored.version}`, expectedVersion: `${current.version}` },
    );
  }
  return { ...current, version: `${current.version}` };
}
