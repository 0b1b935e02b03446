/**
 * Reads the listing an update or delete targets (commands data source, consistent read) and checks,
 * before anything is written: it exists (NotFoundError), a user-pool caller owns it (UnauthorizedError),
 * and it is still at the caller's expectedVersion (ConflictError naming the current version).
 * Leaves the stored item in `ctx.stash.current` for the write, whose condition re-checks the version.
 */
import { util } from '@aws-appsync/utils';

const VERSION = '^[1-9][0-9]{0,15}$';

export function request(ctx) {
  const { id, expectedVersion } = ctx.args.input;
  if (!util.matches(VERSION, expectedVersion) || Number(expectedVersion) > 9007199254740991) {
    util.error('expectedVersion must be a version string as returned by the API', 'ValidationError', null, {
      problems: ['expectedVersion must be a version string as returned by the API'],
    });
  }
  return {
    operation: 'GetItem',
    key: util.dynamodb.toMapValues({ pk: `LISTING#${id}`, sk: 'LISTING' }),
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
    util.error(`Listing ${id} does not exist`, 'NotFoundError', null, { id });
  }
  const backend = util.authType() === 'IAM Authorization';
  if (!backend && current.owner !== ctx.identity.sub) {
    util.error(`Only the owner may change listing ${id}`, 'UnauthorizedError', null, { id });
  }
  if (`${current.version}` !== expectedVersion) {
    util.error(
      `Listing ${id} is at version ${current.version}, not ${expectedVersion}: reload it and retry`,
      'ConflictError',
      null,
      { id, currentVersion: `${current.version}`, expectedVersion },
    );
  }
  ctx.stash.current = current;
  return current;
}
