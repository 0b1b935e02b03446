/**
 * Decides who may delete the review loadReviewForWrite read (commands data source: a consistent read of
 * its listing's owner). The review's author, the listing's owner (reviews must not be a way to deface
 * someone's listing without recourse) and backends (IAM) may; anyone else gets UnauthorizedError. Then the
 * version: ConflictError names the current one when it is not the caller's expectedVersion (checked after
 * the caller is known to be allowed, so a stranger learns nothing about the review's versions).
 */
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  const { current } = ctx.stash;
  return {
    operation: 'GetItem',
    key: util.dynamodb.toMapValues({ pk: current.pk, sk: 'LISTING' }),
    consistentRead: true,
    projection: { expression: '#owner', expressionNames: { '#owner': 'owner' } },
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const { current } = ctx.stash;
  const { id, expectedVersion } = ctx.args.input;
  const backend = util.authType() === 'IAM Authorization';
  const caller = backend ? null : ctx.identity.sub;
  // The listing can be gone while its reviews are still being deleted (reviewCascade): then only the
  // author (or a backend) may delete the review.
  const owner = ctx.result ? ctx.result.owner : null;
  if (!backend && current.author !== caller && owner !== caller) {
    util.error(`Only the author or the listing's owner may delete review ${id}`, 'UnauthorizedError', null, { id });
  }
  if (`${current.version}` !== expectedVersion) {
    util.error(
      `Review ${id} is at version ${current.version}, not ${expectedVersion}: reload it and retry`,
      'ConflictError',
      null,
      { id, currentVersion: `${current.version}`, expectedVersion },
    );
  }
  return current;
}
