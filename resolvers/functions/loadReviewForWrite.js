/**
 * Reads the review a delete targets (commands data source, consistent read) and checks it exists
 * (NotFoundError), a user-pool caller wrote it (UnauthorizedError) and it is at the expectedVersion
 * (ConflictError naming the current version). Leaves it in `ctx.stash.current`.
 */
import { util } from '@aws-appsync/utils';

const VERSION = '^[1-9][0-9]{0,15}$';

export function request(ctx) {
  const { listingId, id, expectedVersion } = ctx.args.input;
  if (!util.matches(VERSION, expectedVersion) || Number(expectedVersion) > 9007199254740991) {
    util.error('expectedVersion must be a version string as returned by the API', 'ValidationError', null, {
      problems: ['expectedVersion must be a version string as returned by the API'],
    });
  }
  return {
    operation: 'GetItem',
    key: util.dynamodb.toMapValues({ pk: `LISTING#${listingId}`, sk: `REVIEW#${id}` }),
    consistentRead: true,
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const { id, expectedVersion } = ctx.args.input;
  const current = ctx.result;
  if (!current) {
    util.error(`Review ${id} does not exist`, 'NotFoundError', null, { id });
  }
  if (util.authType() !== 'IAM Authorization' && current.author !== ctx.identity.sub) {
    util.error(`Only the author may delete review ${id}`, 'UnauthorizedError', null, { id });
  }
  if (`${current.version}` !== expectedVersion) {
    util.error(
      `Review ${id} is at version ${current.version}, not ${expectedVersion}: reload it and retry`,
      'ConflictError',
      null,
      { id, currentVersion: `${current.version}`, expectedVersion },
    );
  }
  ctx.stash.current = current;
  return current;
}
